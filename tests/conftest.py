"""Shared pytest set-up for the layers that run against the real test stack
(tests/api, tests/fault): the stack's addresses come from `tests/stack.sh env
test` (exported by tests/run.sh), TLS is always verified against the
generated CA, and each layer closes with one `LAYER: N passed, N failed` line."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "pylib"))


def _stack_env():
    env = {}
    if "CHAT_BASE_URL" not in os.environ:
        out = subprocess.run([str(ROOT / "tests" / "stack.sh"), "env", "test"],
                             check=True, capture_output=True, text=True).stdout
        for line in out.splitlines():
            k, _, v = line.partition("=")
            env[k] = v.strip('"')
    env.update({k: v for k, v in os.environ.items() if k.startswith("CHAT_")})
    return env


STACK = _stack_env()


@pytest.fixture(scope="session")
def stack():
    """The test stack's settings (CHAT_* variables)."""
    return STACK


@pytest.fixture(scope="session")
def base_url(stack):
    return stack["CHAT_BASE_URL"]


@pytest.fixture(scope="session")
def ca_file(stack):
    return stack["CHAT_CA"]


@pytest.fixture
def http(ca_file):
    """A requests session that verifies TLS against the local CA."""
    with requests.Session() as s:
        s.verify = ca_file
        # REQUESTS_CA_BUNDLE in the environment would override verify.
        s.trust_env = False
        yield s


def factory(make, end):
    """The body of a factory fixture: a function that makes things with
    make(**kw), and, after the test, end(thing) for each one made."""
    made = []

    def start(**kw):
        thing = make(**kw)
        made.append(thing)
        return thing
    yield start
    for thing in made:
        end(thing)


@pytest.fixture
def clients(stack):
    """A factory of chat.Client (each from a loopback address of its own), closed at the end."""
    import chat
    yield from factory(lambda **kw: chat.Client(stack, **kw), lambda c: c.close())


@pytest.fixture
def client(clients):
    """A fresh, logged-out chat.Client."""
    return clients()


@pytest.fixture
def account(clients):
    """A confirmed account (its first code used) and the client that made it."""
    c = clients()
    return c, c.new_user()


@pytest.fixture
def private_chatd(stack):
    """A factory of private one-worker chatd processes with settings of their
    own (CHATD_*=value keywords), sharing the stack's database and secrets;
    each is killed at the end. See tests/pylib/chatd.py."""
    import chatd
    yield from factory(lambda **kw: chatd.Chatd(stack, **kw), lambda d: d.stop())


@pytest.fixture
def edge(stack):
    """A factory of second nginx instances in front of the stack's chatd pools,
    rendered with settings of their own (CHAT_*=value keywords); each is
    stopped at the end. See tests/pylib/edge.py."""
    import edge as edge_mod
    yield from factory(lambda **kw: edge_mod.Edge(stack, **kw), lambda e: e.stop())


REPORT = []


@pytest.fixture(scope="session")
def report():
    """Lines (measurements) to print in the layer's closing summary."""
    return REPORT


def pytest_terminal_summary(terminalreporter):
    for line in REPORT:
        terminalreporter.write_line(line)
    stats = terminalreporter.stats
    passed = len(stats.get("passed", []))
    failed = len(stats.get("failed", [])) + len(stats.get("error", []))
    skipped = len(stats.get("skipped", []))
    layer = os.environ.get("CHAT_TEST_LAYER", "pytest")
    line = f"{layer}: {passed} passed, {failed} failed"
    if skipped:
        line += f", {skipped} skipped"
    terminalreporter.write_line(line)
