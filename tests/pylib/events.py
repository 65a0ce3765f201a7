"""A subscriber of the chat's event stream (GET /api/events), as a browser's
EventSource is: one TLS connection with the session cookie, the answer read
as text/event-stream (HTTP/1.1, chunked) by a thread that stamps each event
with its arrival time, so tests can wait for an event and measure how long
it took to arrive."""
import json
import queue
import socket
import ssl
import statistics
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


class IdleCrowd:
    """n idle subscribers of the event stream, spread over the sessions of
    `clients`, held open by one asyncio loop in a thread (reconnecting when
    nginx ends a stream), so a test can measure delivery with them present."""

    def __init__(self, clients, n, path="/api/events"):
        import asyncio
        self.asyncio = asyncio
        self.clients, self.n, self.path = clients, n, path
        self.connected = 0
        self.failures = []
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        if not self.ready.wait(120):
            raise AssertionError(f"only {self.connected} of {n} idle subscribers connected")
        if self.failures:
            raise AssertionError(f"idle subscribers failed: {self.failures[:3]}")

    def _run(self):
        self.asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._main())

    async def _one(self, client, ctx, opened):
        u = urllib.parse.urlsplit(client.base)
        first = True
        while not self.stopping.is_set():
            try:
                reader, writer = await self.asyncio.open_connection(
                    u.hostname, u.port, ssl=ctx, server_hostname=u.hostname,
                    local_addr=(client.source, 0))
                writer.write((f"GET {self.path} HTTP/1.1\r\nHost: {u.hostname}:{u.port}\r\n"
                              f"Accept: text/event-stream\r\nCookie: {chat.COOKIE}={client.cookie}\r\n\r\n").encode())
                status = (await reader.readline()).decode()
                if " 200 " not in status:
                    raise OSError(status.strip())
                if first:
                    first = False
                    self.connected += 1
                    opened.release()
                while await reader.read(4096):
                    pass
                writer.close()
            except (OSError, self.asyncio.IncompleteReadError) as e:
                if first:
                    self.failures.append(repr(e))
                    first = False
                    opened.release()
                    return
                await self.asyncio.sleep(0.5)

    async def _main(self):
        self.stopping = self.asyncio.Event()
        ctx = ssl.create_default_context(cafile=self.clients[0].stack["CHAT_CA"])
        ctx.set_alpn_protocols(["http/1.1"])
        opened = self.asyncio.Semaphore(0)
        self.tasks = []
        for i in range(self.n):         # one at a time: each is up before the next starts
            self.tasks.append(self.asyncio.ensure_future(self._one(self.clients[i % len(self.clients)], ctx, opened)))
            await opened.acquire()
        self.ready.set()
        await self.stopping.wait()
        for t in self.tasks:
            t.cancel()

    def close(self):
        self.loop.call_soon_threadsafe(self.stopping.set)
        self.thread.join(30)


def delivery_times(sender, recipient, stream, n, first_counter=1):
    """ms from sending each of n messages (sender → recipient, two chat.Peer)
    to its event arriving on the recipient's stream."""
    times = []
    for i in range(n):
        t0 = time.monotonic()
        r = sender.send(recipient, first_counter + i, size=64)
        assert r.status_code == 201, r.text
        ev = stream.next({"type": "message", "id": r.json()["id"]})
        times.append((ev["at"] - t0) * 1000)
    return times


def latency_summary(label, times):
    q = statistics.quantiles(times, n=100, method="inclusive")
    return (f"event delivery {label}: n={len(times)} p50={statistics.median(times):.1f} ms "
            f"p99={q[98]:.1f} ms max={max(times):.1f} ms")
