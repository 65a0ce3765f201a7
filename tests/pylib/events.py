"""A subscriber of the chat's event stream (GET /api/events), as a browser's
EventSource is: one TLS connection with the session cookie, the answer read
as text/event-stream (HTTP/1.1, chunked) by a thread that stamps each event
with its arrival time, so tests can wait for an event and measure how long
it took to arrive."""
import json
import queue
import socket
import ssl
import threading
import time
import urllib.parse

import chat


class EventStream:
    def __init__(self, client, path="/api/events", last_event_id=None, headers=None, timeout=10):
        u = urllib.parse.urlsplit(client.base)
        self.host, self.port = u.hostname, u.port
        ctx = ssl.create_default_context(cafile=client.stack["CHAT_CA"])
        ctx.set_alpn_protocols(["http/1.1"])
        raw = socket.create_connection((self.host, self.port), timeout=timeout,
                                       source_address=(client.source, 0))
        self.sock = ctx.wrap_socket(raw, server_hostname=self.host)
        lines = [f"GET {path} HTTP/1.1", f"Host: {self.host}:{self.port}",
                 "Accept: text/event-stream", "Cache-Control: no-cache"]
        if client.cookie:
            lines.append(f"Cookie: {chat.COOKIE}={client.cookie}")
        if last_event_id is not None:
            lines.append(f"Last-Event-ID: {last_event_id}")
        for k, v in (headers or {}).items():
            lines.append(f"{k}: {v}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.f = self.sock.makefile("rb")
        status = self.f.readline().decode()
        self.status = int(status.split()[1])
        self.headers = {}
        while True:
            line = self.f.readline().decode().rstrip("\r\n")
            if not line:
                break
            k, _, v = line.partition(":")
            self.headers[k.strip().lower()] = v.strip()
        self.events = queue.Queue()
        self.closed = threading.Event()
        self.body = b""
        if self.status != 200:
            n = int(self.headers.get("content-length", "0"))
            self.body = self.f.read(n) if n else b""
            self.close()
            return
        self.sock.settimeout(None)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def json(self):
        return json.loads(self.body)

    def _lines(self):
        """The body's lines, across chunk boundaries (chunked or not)."""
        chunked = self.headers.get("transfer-encoding", "").lower() == "chunked"
        pending = b""
        while True:
            if chunked:
                size = self.f.readline()
                if not size:
                    return
                n = int(size.split(b";")[0].strip() or b"0", 16)
                if n == 0:
                    return
                data = self.f.read(n)
                self.f.readline()
            else:
                data = self.f.read1(65536)
                if not data:
                    return
            pending += data
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                yield line.rstrip(b"\r").decode()

    def _read(self):
        ev = {}
        try:
            for line in self._lines():
                if line == "":
                    if "data" in ev:
                        ev["at"] = time.monotonic()
                        ev["json"] = json.loads(ev["data"])
                        self.events.put(ev)
                    ev = {}
                elif not line.startswith(":"):
                    k, _, v = line.partition(":")
                    v = v[1:] if v.startswith(" ") else v
                    ev[k] = ev["data"] + "\n" + v if k == "data" and "data" in ev else v
        except (OSError, ValueError):
            pass
        finally:
            self.closed.set()

    def next(self, match=None, timeout=5):
        """The next event whose JSON has every key/value of `match`; earlier others are dropped."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no event matching {match} within {timeout}s")
            try:
                ev = self.events.get(timeout=left)
            except queue.Empty:
                continue
            if all(ev["json"].get(k) == v for k, v in (match or {}).items()):
                return ev

    def drain(self, wait=0.3):
        """Every event that arrives within `wait` seconds from now (JSON only)."""
        time.sleep(wait)
        out = []
        while True:
            try:
                out.append(self.events.get_nowait()["json"])
            except queue.Empty:
                return out

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self.closed.set()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
