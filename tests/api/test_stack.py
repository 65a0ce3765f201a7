"""tests/stack.sh, which `make run` uses: one stack per profile at a time; a
port another program holds stops it at once, naming the port and the
variable that moves it; your own certificate (an ACME client's files) on a
real name, renewed in place and picked up by a reload."""
import http.client as http_client
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
from pathlib import Path

import pytest
from cryptography import x509

from edge import free_port

ROOT = Path(__file__).resolve().parents[2]
STACK = ROOT / "tests" / "stack.sh"


def test_a_second_stack_of_the_same_profile_refuses_and_says_so(stack, http, base_url):
    for cmd in ("run", "preflight"):     # make run asks preflight first
        r = subprocess.run([str(ROOT / "tests" / "stack.sh"), cmd, stack["CHAT_PROFILE"]],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 1
        assert "already running" in r.stderr and "port" not in r.stderr
    # The running stack was not disturbed.
    assert http.get(f"{base_url}/api/health").status_code == 200
    assert (Path(stack["CHAT_STACK_DIR"]) / "ready").exists()


# --- a busy port -------------------------------------------------------------------------------

def clean_env(**settings):
    """The environment of a fresh shell: no setting of the test stack leaks in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHAT_", "CHATD_", "CERTS_"))}
    env.update({k: str(v) for k, v in settings.items()})
    return env


@pytest.fixture
def held_port():
    """A port another program listens on (on the loopback only, which still
    stops nginx from listening on all addresses)."""
    s = socket.socket()
    s.bind(("127.0.0.1", free_port()))
    s.listen()
    yield s.getsockname()[1]
    s.close()


@pytest.mark.parametrize("var", ["CHAT_HTTPS_PORT", "CHAT_HTTP_PORT"])
def test_a_busy_port_stops_the_stack_at_once_and_names_it(tmp_path, held_port, var):
    other = "CHAT_HTTP_PORT" if var == "CHAT_HTTPS_PORT" else "CHAT_HTTPS_PORT"
    env = clean_env(**{var: held_port, other: free_port(taken={held_port})},
                    CERTS_DIR=tmp_path / "certs")
    shutil.rmtree(ROOT / "var" / "busy", ignore_errors=True)
    t0 = time.monotonic()
    r = subprocess.run([str(STACK), "run", "busy"], env=env, capture_output=True, text=True, timeout=30)
    took = time.monotonic() - t0
    assert r.returncode == 1
    assert f"port {held_port} is already in use" in r.stderr and var in r.stderr, r.stderr
    assert "python" in r.stderr                 # who holds it
    assert took < 5, took
    # Nothing was made: no certificates, no database, nothing said about stopping.
    assert not (tmp_path / "certs").exists()
    assert not (ROOT / "var" / "busy" / "db").exists()
    assert "stopping" not in r.stdout + r.stderr and "cat:" not in r.stderr
    shutil.rmtree(ROOT / "var" / "busy")


def test_make_run_names_a_busy_port_before_installing_or_building(tmp_path, held_port):
    # The package check (dpkg-query) and the compiler leave a mark when called.
    fake = tmp_path / "bin"
    fake.mkdir()
    for tool in ("dpkg-query", "cc", "apt-get"):
        (fake / tool).write_text(f"#!/bin/sh\ntouch {tmp_path}/called-{tool}\nexit 1\n")
        (fake / tool).chmod(0o755)
    env = clean_env(CHAT_HTTPS_PORT=held_port, CHAT_HTTP_PORT=free_port(taken={held_port}),
                    CERTS_DIR=tmp_path / "certs")
    env["PATH"] = f"{fake}:{env['PATH']}"
    t0 = time.monotonic()
    r = subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), "run"], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    assert f"port {held_port} is already in use" in r.stderr and "CHAT_HTTPS_PORT" in r.stderr
    assert sorted(p.name for p in tmp_path.glob("called-*")) == []
    assert not (tmp_path / "certs").exists()
    assert time.monotonic() - t0 < 5


@pytest.mark.parametrize("value", ["abc", "0", "70000", "84 43"])
def test_a_port_that_is_not_a_number_is_refused_by_name(tmp_path, value):
    r = subprocess.run([str(STACK), "run", "busy"], capture_output=True, text=True, timeout=30,
                       env=clean_env(CHAT_HTTPS_PORT=value, CHAT_HTTP_PORT="", CERTS_DIR=tmp_path / "c"))
    assert r.returncode == 1
    assert f"CHAT_HTTPS_PORT must be a port number, not '{value}'" in r.stderr, r.stderr
    assert not (tmp_path / "c").exists()
    shutil.rmtree(ROOT / "var" / "busy", ignore_errors=True)


def test_the_same_port_for_http_and_https_is_refused_at_once(tmp_path):
    port = free_port()
    r = subprocess.run([str(STACK), "run", "busy"], capture_output=True, text=True, timeout=30,
                       env=clean_env(CHAT_HTTPS_PORT=port, CHAT_HTTP_PORT=port, CERTS_DIR=tmp_path / "c"))
    assert r.returncode == 1
    assert f"CHAT_HTTP_PORT and CHAT_HTTPS_PORT must differ (both are {port})" in r.stderr
    assert not (tmp_path / "c").exists()
    shutil.rmtree(ROOT / "var" / "busy", ignore_errors=True)


# --- your own certificate, on a real name -----------------------------------------------------

def make_ca(d):
    d.mkdir(parents=True, exist_ok=True)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384",
                    "-nodes", "-keyout", str(d / "ca.key"), "-out", str(d / "ca.crt"), "-days", "2",
                    "-subj", "/CN=Test ACME-like CA"], check=True, capture_output=True)


def issue(d, name, serial, days=2):
    """A certificate for name from the CA in d, as an ACME client would leave it:
    fullchain.pem and privkey.pem (a new key each time)."""
    subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384",
                    "-nodes", "-keyout", str(d / "new.key"), "-out", str(d / "new.csr"),
                    "-subj", f"/CN={name}"], check=True, capture_output=True)
    ext = d / "ext.cnf"
    ext.write_text(f"subjectAltName=DNS:{name}\nextendedKeyUsage=serverAuth\n")
    subprocess.run(["openssl", "x509", "-req", "-in", str(d / "new.csr"), "-CA", str(d / "ca.crt"),
                    "-CAkey", str(d / "ca.key"), "-set_serial", str(serial), "-days", str(days),
                    "-extfile", str(ext), "-out", str(d / "new.crt")], check=True, capture_output=True)
    os.replace(d / "new.key", d / "privkey.pem")
    os.replace(d / "new.crt", d / "fullchain.pem")


def served(port, name, ca, check_name=True):
    """(serial of the certificate served for name, status of GET /api/health)."""
    ctx = ssl.create_default_context(cafile=str(ca))
    ctx.check_hostname = check_name
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        with ctx.wrap_socket(s, server_hostname=name) as t:
            serial = x509.load_der_x509_certificate(t.getpeercert(binary_form=True)).serial_number
            t.sendall(f"GET /api/health HTTP/1.1\r\nHost: {name}\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while chunk := t.recv(65536):
                data += chunk
    return serial, int(data.split(b"\r\n")[0].split()[1])


def test_own_certificate_on_a_real_name_with_acme_renewal_on_reload(tmp_path):
    le = tmp_path / "letsencrypt"
    make_ca(le)
    issue(le, "chat.example.test", serial=1001)
    https, http = free_port(), free_port()
    http = free_port(taken={https})
    # No CHAT_EXTRA_HOSTNAMES: with a certificate of its own, only the site's name is served.
    env = clean_env(CHAT_HOSTNAME="chat.example.test",
                    CHAT_CERT=le / "fullchain.pem", CHAT_CERT_KEY=le / "privkey.pem",
                    CHAT_HTTPS_PORT=https, CHAT_HTTP_PORT=http, CHAT_POOLS="a",
                    CHATD_WORKERS=1, CHATD_THREADS=2, CERTS_DIR=tmp_path / "no-local-ca")
    subprocess.run([str(STACK), "stop", "own"], env=env, capture_output=True, timeout=60)
    shutil.rmtree(ROOT / "var" / "own", ignore_errors=True)
    r = subprocess.run([str(STACK), "start", "own"], env=env, capture_output=True, text=True, timeout=120)
    try:
        assert r.returncode == 0, r.stdout + r.stderr
        assert "ready: https://chat.example.test:" in r.stdout
        log = (ROOT / "var" / "own" / "log" / "stack.log").read_text()
        assert "local CA" not in log and "certs:" not in log     # no CA was made or offered
        assert not (tmp_path / "no-local-ca").exists()

        # Trusted through the certificate's own CA, under its name.
        assert served(https, "chat.example.test", le / "ca.crt") == (1001, 200)
        # localhost is no longer one of the names: refused at the handshake
        # (not merely a certificate that does not name it).
        with pytest.raises(ssl.SSLError, match="UNRECOGNIZED_NAME"):
            served(https, "localhost", le / "ca.crt", check_name=False)
        # Plain HTTP: ACME challenges for the name, and the redirect to it.
        acme = ROOT / "var" / "own" / "acme" / ".well-known" / "acme-challenge"
        acme.mkdir(parents=True, exist_ok=True)
        (acme / "tok").write_text("tok.key")
        conn = http_client.HTTPConnection("127.0.0.1", http, timeout=10)
        conn.request("GET", "/.well-known/acme-challenge/tok", headers={"Host": "chat.example.test"})
        assert conn.getresponse().read() == b"tok.key"
        conn.request("GET", "/chat", headers={"Host": "chat.example.test"})
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 301 and resp.getheader("location") == f"https://chat.example.test:{https}/chat"
        conn.close()

        # The ACME client renews in place; a reload serves the new certificate.
        issue(le, "chat.example.test", serial=1002)
        assert served(https, "chat.example.test", le / "ca.crt")[0] == 1001
        r = subprocess.run([str(STACK), "reload", "own"], env=env, capture_output=True, text=True,
                           timeout=30)
        assert r.returncode == 0, r.stderr
        deadline = time.monotonic() + 10
        while served(https, "chat.example.test", le / "ca.crt")[0] != 1002:
            assert time.monotonic() < deadline, "the renewed certificate was not served after reload"
            time.sleep(0.1)
        assert served(https, "chat.example.test", le / "ca.crt") == (1002, 200)
    finally:
        subprocess.run([str(STACK), "stop", "own"], env=env, capture_output=True, timeout=60)
        shutil.rmtree(ROOT / "var" / "own", ignore_errors=True)


@pytest.mark.parametrize("problem,words", [("other_name", "is not valid for CHAT_HOSTNAME 'chat.example.test'"),
                                           ("no_key", "CHAT_CERT_KEY is not"),
                                           ("missing", "cannot read")])
def test_an_unusable_own_certificate_stops_the_stack_before_anything_starts(tmp_path, problem, words):
    le = tmp_path / "le"
    make_ca(le)
    issue(le, "other.example.test" if problem == "other_name" else "chat.example.test", serial=7)
    settings = dict(CHAT_HOSTNAME="chat.example.test", CHAT_CERT=le / "fullchain.pem",
                    CHAT_CERT_KEY=le / "privkey.pem", CHAT_HTTPS_PORT=free_port(), CHAT_HTTP_PORT="")
    if problem == "no_key":
        del settings["CHAT_CERT_KEY"]
    if problem == "missing":
        settings["CHAT_CERT"] = le / "nope.pem"
    shutil.rmtree(ROOT / "var" / "badcert", ignore_errors=True)
    r = subprocess.run([str(STACK), "run", "badcert"], env=clean_env(**settings), capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 1
    assert words in r.stderr, r.stderr
    assert not (ROOT / "var" / "badcert" / "db").exists()
    shutil.rmtree(ROOT / "var" / "badcert")


def test_ctrl_c_stops_every_part_and_says_nothing_misleading(tmp_path):
    """Ctrl-C reaches the whole foreground process group at once (make, the
    script, nginx, chatd, MariaDB): everything stops, nothing is left, and
    neither the script nor make reports an error."""
    makefile = tmp_path / "Makefile"     # make run's own recipe, on a profile of its own
    makefile.write_text(f"run:\n\t@{STACK} run ctrlc\n")
    https = free_port()
    env = clean_env(CHAT_HTTPS_PORT=https, CHAT_HTTP_PORT=free_port(taken={https}), CHAT_POOLS="a",
                    CHATD_WORKERS=1, CHATD_THREADS=2)
    d = ROOT / "var" / "ctrlc"
    shutil.rmtree(d, ignore_errors=True)
    p = subprocess.Popen(["make", "--no-print-directory", "-f", str(makefile), "run"], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         start_new_session=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 90
        while not (d / "ready").exists():
            assert p.poll() is None and time.monotonic() < deadline, p.stdout.read()
            time.sleep(0.1)
        os.killpg(p.pid, signal.SIGINT)
        out, _ = p.communicate(timeout=60)
        assert "stack[ctrlc]: stopped" in out, out
        for noise in ("Error", "cat:", "No such file", "Terminated", "Killed"):
            assert noise not in out, out
        left = subprocess.run(["pgrep", "-af", str(d)], capture_output=True, text=True).stdout
        assert left == ""
        assert [f.name for f in d.rglob("*") if f.suffix in (".sock", ".pid")] == []
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            subprocess.run([str(STACK), "stop", "ctrlc"], env=env, capture_output=True, timeout=60)
        shutil.rmtree(d, ignore_errors=True)
