"""A loopback HTTP proxy in front of moto that can be told to fail: the sandbox account
having a bad minute (throttling) or a bad day (access denied), for real, on the wire.

Modes, switched by the test process (``proxy.mode = ...``) or by any client of the proxy
with ``GET /__fault__/<mode>`` (so a test running inside a pytest subprocess can arm it at
the right moment):

    pass      forward everything to moto
    throttle  answer every AWS call with 400 "Throttling: Rate exceeded" (transient)
    deny      answer every AWS call with 403 "AccessDenied" (permanent)

``/moto-api/`` always passes: the harness's "is the sandbox up" probe must still see it up,
or it would (rightly) treat the sandbox as gone instead of meeting the fault.
"""
from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "te",
              "trailer", "upgrade", "proxy-connection"}
MODES = ("pass", "throttle", "deny")


class FaultProxy:
    def __init__(self, upstream: str):
        self.upstream = urlparse(upstream)
        self.mode = "pass"
        self.failed: dict[str, int] = {"throttle": 0, "deny": 0}
        self.forwarded = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep the test output quiet
                pass

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    data = b""
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return data
                        data += self.rfile.read(size)
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _send(self, status: int, body: bytes, headers: list[tuple[str, str]]) -> None:
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _fail(self, mode: str) -> None:
                proxy.failed[mode] += 1
                code, status, message = (("Throttling", 400, "Rate exceeded") if mode == "throttle"
                                         else ("AccessDenied", 403, "injected: access denied"))
                if "json" in self.headers.get("Content-Type", ""):
                    body = ('{"__type":"%sException","message":"%s"}' % (code, message)).encode()
                    self._send(status, body, [("Content-Type", "application/x-amz-json-1.1"),
                                              ("x-amzn-ErrorType", code + "Exception")])
                elif "x-www-form-urlencoded" in self.headers.get("Content-Type", ""):
                    body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
                            f"<Message>{message}</Message></Error><RequestId>f</RequestId>"
                            "</ErrorResponse>").encode()
                    self._send(status, body, [("Content-Type", "text/xml")])
                else:  # S3 REST
                    body = (f"<Error><Code>{code}</Code><Message>{message}</Message>"
                            "<RequestId>f</RequestId></Error>").encode()
                    self._send(503 if mode == "throttle" else status, body,
                               [("Content-Type", "application/xml")])

            def _handle(self) -> None:
                body = self._body()
                if self.path.startswith("/__fault__/"):
                    mode = self.path.rsplit("/", 1)[-1]
                    if mode in MODES:
                        proxy.mode = mode
                        return self._send(200, mode.encode(), [("Content-Type", "text/plain")])
                    return self._send(400, b"unknown mode", [("Content-Type", "text/plain")])
                if proxy.mode != "pass" and not self.path.startswith("/moto-api"):
                    return self._fail(proxy.mode)
                conn = http.client.HTTPConnection(proxy.upstream.hostname, proxy.upstream.port,
                                                  timeout=120)
                try:
                    headers = {k: v for k, v in self.headers.items()
                               if k.lower() not in HOP_BY_HOP}
                    conn.request(self.command, self.path, body=body, headers=headers)
                    resp = conn.getresponse()
                    data = resp.read()
                    proxy.forwarded += 1
                    self._send(resp.status, data, [(k, v) for k, v in resp.getheaders()
                                                   if k.lower() not in HOP_BY_HOP])
                finally:
                    conn.close()

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
