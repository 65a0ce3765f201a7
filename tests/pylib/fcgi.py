"""A small FastCGI client (the record layer of the FastCGI 1.0 spec), so the
tests can talk to one chatd pool directly, bypassing nginx: to see which pool
answers, or to hold a request open while chatd is told to stop."""
import socket
import struct

VERSION = 1
BEGIN_REQUEST, ABORT_REQUEST, END_REQUEST, PARAMS, STDIN, STDOUT, STDERR = 1, 2, 3, 4, 5, 6, 7
RESPONDER = 1


def _record(rtype, content, req_id=1):
    out = b""
    # Records carry at most 65535 bytes.
    for i in range(0, max(len(content), 1), 65535):
        chunk = content[i:i + 65535]
        out += struct.pack(">BBHHBx", VERSION, rtype, req_id, len(chunk), 0) + chunk
    return out


def _nv(name, value):
    def length(n):
        return struct.pack(">B", n) if n < 128 else struct.pack(">I", n | 0x80000000)
    name, value = name.encode(), value.encode()
    return length(len(name)) + length(len(value)) + name + value


class Request:
    """One FastCGI request over a fresh connection to a unix socket."""

    def __init__(self, sock_path, method="GET", uri="/api/health", headers=None,
                 content_type=None, content_length=None, timeout=10):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(sock_path)
        params = {"CHAT_METHOD": method, "CHAT_URI": uri}
        if content_type is not None:
            params["CHAT_CONTENT_TYPE"] = content_type
        if content_length is not None:
            params["CHAT_CONTENT_LENGTH"] = str(content_length)
        params.update(headers or {})
        body = b"".join(_nv(k, v) for k, v in params.items())
        self.sock.sendall(_record(BEGIN_REQUEST, struct.pack(">HB5x", RESPONDER, 0))
                          + _record(PARAMS, body) + _record(PARAMS, b""))

    def send_body(self, data, end=True):
        if data:
            self.sock.sendall(_record(STDIN, data))
        if end:
            self.sock.sendall(_record(STDIN, b""))

    def response(self):
        """(status, headers dict with lower-case names, body bytes)."""
        buf, out = b"", b""
        while True:
            while len(buf) < 8:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise ConnectionError("connection closed before END_REQUEST")
                buf += chunk
            _, rtype, _, clen, plen = struct.unpack(">BBHHB", buf[:7])
            while len(buf) < 8 + clen + plen:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise ConnectionError("connection closed inside a record")
                buf += chunk
            content, buf = buf[8:8 + clen], buf[8 + clen + plen:]
            if rtype == STDOUT:
                out += content
            elif rtype == END_REQUEST:
                break
        self.sock.close()
        head, _, body = out.partition(b"\r\n\r\n")
        headers = {}
        for line in head.decode().split("\r\n"):
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        return int(headers.get("status", "200").split()[0]), headers, body


def get(sock_path, uri="/api/health", timeout=10):
    req = Request(sock_path, "GET", uri, timeout=timeout)
    req.send_body(b"")
    return req.response()
