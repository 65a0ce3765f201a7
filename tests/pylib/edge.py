"""A second nginx in front of the test stack's chatd pools, rendered from the
same template (nginx/render.sh) with settings of a test's own: a tiny
per-address connection cap, a short body deadline, other host names. It has
ports, a prefix and a publisher socket of its own, so the stack's nginx is
untouched; its event streams get no events (chatd publishes to the stack's
nginx), which the tests here do not need."""
import os
import random
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port(taken=()):
    """A port nginx can listen on, below the kernel's ephemeral range (an
    outgoing connection's port there would make nginx's bind fail)."""
    for port in random.sample(range(18500, 19000), 500):
        if port in taken:
            continue
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("0.0.0.0", port))
                return port
            except OSError:
                continue
    raise AssertionError("no free port in 18500-18999")


class Edge:
    def __init__(self, stack, **settings):
        self.dir = Path(tempfile.mkdtemp(prefix="edge-", dir="/tmp"))
        os.chmod(self.dir, 0o755)       # nginx's workers run as www-data
        self.https = free_port()
        self.http = free_port(taken={self.https})
        run = Path(stack["CHAT_STACK_DIR"]) / "run" / "chatd"
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHAT_")}
        env.update(NGINX_PREFIX=str(self.dir), CHAT_HTTPS_PORT=str(self.https),
                   CHAT_HTTP_PORT=str(self.http), CHAT_HOSTNAME="localhost",
                   CHAT_CERT=stack["CHAT_SERVER_CERT"],
                   CHAT_CERT_KEY=str(Path(stack["CHAT_CERTS_DIR"]) / "server.key"),
                   CHAT_UPSTREAMS=" ".join(f"unix:{run / (p + '.sock')}"
                                           for p in stack["CHAT_POOLS"].split()),
                   CHAT_NCHAN_PUB_LISTEN=f"unix:{self.dir / 'pub.sock'}")
        env.update({k: str(v) for k, v in settings.items()})
        r = subprocess.run([str(ROOT / "nginx" / "render.sh")], env=env, capture_output=True,
                           text=True, timeout=30)
        if r.returncode != 0:
            raise AssertionError(f"render.sh: {r.stderr}")
        self.log = self.dir / "logs" / "nginx-error.log"
        args = ["nginx", "-p", str(self.dir), "-c", "conf/nginx.conf", "-e", str(self.log)]
        r = subprocess.run(args, capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            raise AssertionError(f"nginx: {r.stderr}")
        self.args = args
        self.base = f"https://localhost:{self.https}"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.https), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("the edge nginx did not listen")

    def stop(self):
        subprocess.run(self.args + ["-s", "quit"], capture_output=True, timeout=30)
        pid = self.dir / "nginx.pid"
        deadline = time.monotonic() + 10
        while pid.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        shutil.rmtree(self.dir, ignore_errors=True)
