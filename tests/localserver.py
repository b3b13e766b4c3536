"""A real HTTP server on 127.0.0.1 for tests: routes, static directories, and a request log.

    def test_something(local_server):   # the fixture is registered by conftest.py (pytest_plugins)

    def test_something(local_server):
        local_server.route("/a", lambda req: (200, {"Content-Type": "text/html"}, b"<p>hi</p>"))
        local_server.serve_dir("/site", CORPUS / "site")
        url = local_server.url("/a")                      # http://127.0.0.1:PORT/a
        other = local_server.url("/a", host="localhost")  # same server, a second host name

A handler gets a `RequestInfo` and returns `(status, headers, body)` or a `Response`. The body is
bytes or str (sent with a Content-Length unless the handler set one), or an iterable of bytes
(sent chunked, each chunk as it comes: a generator that sleeps makes a slow or endless page).
A route path ending in `*` matches every path with that prefix. Unknown paths get a 404
(so /robots.txt is "not found" unless a test routes it).

`server.log` holds `(time.monotonic(), method, path, headers)` per request, taken when the request
line and headers have been read; the same clock as the test's.
"""

from __future__ import annotations

import email.utils
import hashlib
import mimetypes
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Iterable, NamedTuple
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

CONTENT_TYPES = {
    ".html": "text/html",
    ".htm": "text/html",
    ".xml": "application/rss+xml",
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".opml": "text/x-opml",
    ".txt": "text/plain",
    ".json": "application/json",
    ".jsonl": "application/x-ndjson",
    ".css": "text/css",
    ".js": "text/javascript",
    ".gz": "application/gzip",
}


class Response(NamedTuple):
    """What a handler returns: status, headers, and a body (bytes, str, or an iterable of bytes)."""

    status: int
    headers: dict[str, str] = {}
    body: Any = b""


@dataclass
class RequestInfo:
    """One request as a handler sees it."""

    method: str
    path: str  # path and query, as sent
    route_path: str  # path only, percent-decoded
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes = b""
    time: float = 0.0  # time.monotonic() when it arrived
    extra: dict[str, Any] = field(default_factory=dict)


Handler = Callable[[RequestInfo], Any]


class LocalServer:
    """A ThreadingHTTPServer on 127.0.0.1 (port 0) in a background thread."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.log: list[tuple[float, str, str, dict[str, str]]] = []
        self._log_lock = threading.Lock()
        self._routes: dict[str, Handler] = {}
        self._prefix_routes: list[tuple[str, Handler]] = []
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> "LocalServer":
        if self._httpd is not None:
            return self
        server = self

        class _Handler(_RequestHandler):
            owner = server

        httpd = _Server((self.host, 0), _Handler)
        httpd.daemon_threads = True
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"localserver:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> "LocalServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the server is not started; call start() first")
        return self._httpd.server_address[1]

    def url(self, path: str = "/", host: str | None = None) -> str:
        """http://127.0.0.1:PORT/path (or another host name for the same server, e.g. localhost)."""
        if not path.startswith("/"):
            path = "/" + path
        return f"http://{host or self.host}:{self.port}{path}"

    # -- content --------------------------------------------------------------------------------

    def route(self, path: str, handler: Handler | Response | tuple) -> None:
        """Serve `path` (exact, or a prefix when it ends with `*`) with a handler or a fixed
        response."""
        if not callable(handler):
            fixed = handler
            handler = lambda _req: fixed  # noqa: E731
        if path.endswith("*"):
            self._prefix_routes.append((path[:-1], handler))
            self._prefix_routes.sort(key=lambda item: -len(item[0]))
        else:
            self._routes[path] = handler

    def serve_dir(self, prefix: str, directory: str | Path) -> None:
        """Serve the files under `directory` at `prefix`/..., with Last-Modified/ETag and 304s."""
        root = Path(directory).resolve()
        prefix = "/" + prefix.strip("/")
        if prefix != "/":
            prefix += "/"

        def handler(req: RequestInfo) -> Response:
            rel = req.route_path[len(prefix) :]
            if "\\" in rel or any(part == ".." for part in rel.split("/")):
                return Response(
                    403, {"Content-Type": "text/plain"}, b"forbidden: path leaves the directory"
                )
            target = (root / rel).resolve()
            if target != root and root not in target.parents:
                return Response(
                    403, {"Content-Type": "text/plain"}, b"forbidden: path leaves the directory"
                )
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                return Response(404, {"Content-Type": "text/plain"}, b"not found")
            stat = target.stat()
            etag = (
                '"'
                + hashlib.sha1(f"{stat.st_mtime_ns}-{stat.st_size}".encode()).hexdigest()[:16]
                + '"'
            )
            last_modified = email.utils.formatdate(stat.st_mtime, usegmt=True)
            headers = {"ETag": etag, "Last-Modified": last_modified}
            inm = req.headers.get("If-None-Match")
            ims = req.headers.get("If-Modified-Since")
            if (inm and etag in [t.strip() for t in inm.split(",")]) or (
                not inm and ims == last_modified
            ):
                return Response(304, headers, b"")
            ctype = CONTENT_TYPES.get(target.suffix.lower()) or mimetypes.guess_type(target.name)[0]
            headers["Content-Type"] = ctype or "application/octet-stream"
            return Response(200, headers, target.read_bytes())

        self.route(prefix + "*" if prefix != "/" else "/*", handler)

    # -- log ------------------------------------------------------------------------------------

    def _record(self, entry: tuple[float, str, str, dict[str, str]]) -> None:
        with self._log_lock:
            self.log.append(entry)

    def requests(
        self, path: str | None = None, host: str | None = None
    ) -> list[tuple[float, str, str, dict]]:
        """A snapshot of the log, optionally only one path (without query) and/or one Host name."""
        with self._log_lock:
            entries = list(self.log)
        if path is not None:
            entries = [e for e in entries if urlsplit(e[2]).path == path]
        if host is not None:
            entries = [e for e in entries if e[3].get("Host", "").split(":")[0] == host]
        return entries

    def clear_log(self) -> None:
        with self._log_lock:
            self.log.clear()

    def _find(self, path: str) -> Handler | None:
        if path in self._routes:
            return self._routes[path]
        for prefix, handler in self._prefix_routes:
            if path.startswith(prefix):
                return handler
        return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a handler that sleeps (a slow page) never holds up stop()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that hang up (a fetcher stopping at its size cap or time-out) are expected here.
        import sys

        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class _RequestHandler(BaseHTTPRequestHandler):
    owner: LocalServer
    protocol_version = "HTTP/1.1"
    server_version = "newsclf-test/1"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def _handle(self) -> None:
        arrived = time.monotonic()
        headers = {k: v for k, v in self.headers.items()}
        self.owner._record((arrived, self.command, self.path, headers))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        info = RequestInfo(
            method=self.command,
            path=self.path,
            route_path=unquote(parts.path),
            query=parse_qs(parts.query),
            headers=headers,
            body=body,
            time=arrived,
        )
        handler = self.owner._find(info.route_path)
        try:
            if handler is None:
                result: Any = Response(404, {"Content-Type": "text/plain"}, b"not found")
            else:
                result = handler(info)
        except Exception as exc:  # a broken test handler shows as a 500 with the reason
            result = Response(
                500, {"Content-Type": "text/plain"}, f"handler failed: {exc!r}".encode()
            )
        status, out_headers, out_body = _unpack(result)
        try:
            self._send(status, out_headers, out_body)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True

    def _send(self, status: int, headers: dict[str, str], body: Any) -> None:
        self.send_response_only(status)
        self.send_header("Date", self.date_time_string())
        lower = {k.lower() for k in headers}
        for key, value in headers.items():
            self.send_header(key, value)
        if isinstance(body, str):
            body = body.encode("utf-8")
        if isinstance(body, (bytes, bytearray)):
            if "content-length" not in lower and status not in (204, 304) and status >= 200:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD" and body:
                self.wfile.write(body)
            self.wfile.flush()
            return
        # An iterable body: chunked, each chunk written (and flushed) as the iterable gives it.
        chunked = "content-length" not in lower
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        for chunk in body:
            if not chunk:
                continue
            if isinstance(chunk, str):
                chunk = chunk.encode("utf-8")
            if chunked:
                self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            else:
                self.wfile.write(chunk)
            self.wfile.flush()
        if chunked:
            self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = _handle


def _unpack(result: Any) -> tuple[int, dict[str, str], Any]:
    if isinstance(result, Response):
        return result.status, dict(result.headers), result.body
    if isinstance(result, tuple):
        if len(result) == 3:
            return int(result[0]), dict(result[1] or {}), result[2]
        if len(result) == 2:
            return int(result[0]), {}, result[1]
    if isinstance(result, (bytes, str)):
        return 200, {"Content-Type": "text/html"}, result
    raise TypeError(f"a handler must return (status, headers, body) or a Response, not {result!r}")


def html(body: str, status: int = 200, charset: str | None = "utf-8", **headers: str) -> Response:
    """A small helper: an HTML response encoded in `charset` (None: no charset in the header, utf-8
    bytes)."""
    ctype = f"text/html; charset={charset}" if charset else "text/html"
    data = body.encode(charset or "utf-8")
    return Response(
        status,
        {"Content-Type": ctype, **{k.replace("_", "-"): v for k, v in headers.items()}},
        data,
    )


@pytest.fixture
def local_server() -> Iterable[LocalServer]:
    """A started LocalServer, stopped after the test."""
    server = LocalServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
