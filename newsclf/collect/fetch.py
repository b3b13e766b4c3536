"""Polite HTTP fetching: robots.txt, per-host pacing, retries, redirects, size caps, decoding.

    from newsclf.collect.fetch import Fetcher

    fetcher = Fetcher(contact="mailto:media-lab@example.org")
    result = fetcher.fetch("https://news.example/2023/05/ai-labelers")
    if result.error:
        print(result.url, result.error)      # e.g. "refused by robots.txt", "HTTP 404"
    else:
        print(result.final_url, result.text[:200])

    for result in fetcher.fetch_many(urls, accept="feed"):   # hosts in parallel, each host paced
        ...

The rules, all per host (scheme, name and port, as robots.txt is):

* robots.txt (RFC 9309, parsed by Protego) is fetched once and cached for at most `robots_ttl`
  seconds. A 4xx answer (other than 429) means no rules: everything is allowed. A 5xx, a 429, a
  time-out or a network error means the host is treated as disallowed until the cache expires.
  `Crawl-delay` for our agent raises the host's interval: max(min_interval, crawl_delay).
* At most one request is in flight to a host, and request starts are at least the interval apart
  (the robots.txt fetch counts). Different hosts run in parallel (`fetch_many`).
* 429, 500, 502, 503, 504 and connection errors are retried `retries` times with exponential
  backoff (backoff * 2**n seconds), or after the server's Retry-After (seconds or an HTTP date).
  A Retry-After over `max_retry_after` ends the fetch with an error instead of a long wait. While
  a host asks us to wait, no request goes to it from this Fetcher.
* Redirects are followed by hand, so every hop is checked: http/https only, no loops, at most
  `max_redirects`, and each hop's host is paced and robots-checked.
* Bodies are streamed and decoded (gzip/deflate/br) while counting: past `max_bytes` of decoded
  bytes the download stops ("too large"), so a small gzip bomb cannot fill memory. A
  Content-Length over the cap is refused before reading.
* `timeout` bounds each fetch attempt as a whole (connect, headers and body), not each socket read.
* Text is decoded by the charset in Content-Type, else a BOM, else <meta charset> / http-equiv
  (or the XML declaration) in the first 4 KB, else UTF-8 if it decodes cleanly, else a guess:
  unlabelled Latin-script bytes are read as windows-1252 (what browsers do), other scripts by
  charset_normalizer. A declared ISO-8859-1 or US-ASCII is read as windows-1252, as browsers do.

`fetch` never raises for network or HTTP trouble: the FetchResult says what happened in `error`.

`clock` and `sleep` (keyword-only) can be replaced for tests of the pacing logic; `clock` must be a
monotonic clock in seconds, as it also sets the sockets' read deadlines.
"""

from __future__ import annotations

import email.utils
import queue
import re
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Iterator
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
import urllib3
from protego import Protego

from newsclf import __version__
from newsclf.collect.encoding import BOMS as _BOMS
from newsclf.collect.encoding import SNIFF_BYTES, charset_of, decode

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
ROBOTS_MAX_BYTES = 500 * 1024  # RFC 9309: parse at least the first 500 KiB
CHUNK = 64 * 1024

HTML_TYPES = ("text/html", "application/xhtml+xml")
ACCEPT_HEADERS = {
    "html": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1",
    "feed": (
        "application/rss+xml,application/atom+xml,application/xml;q=0.9,text/xml;q=0.9,"
        "application/json;q=0.8,text/*;q=0.5,*/*;q=0.1"
    ),
    "any": "*/*",
}


@dataclass
class FetchResult:
    """What one fetch did. `error` is None on success; otherwise a reason a person can act on."""

    url: str  # as asked
    final_url: str = ""
    status: int = 0  # 0: no HTTP answer (network failure, robots block, refused redirect)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""  # decoded from any Content-Encoding
    text: str | None = None
    encoding: str | None = None
    content_type: str | None = None  # media type only, lower case, e.g. "text/html"
    elapsed: float = 0.0  # seconds for the whole fetch, waits included
    redirects: list[str] = field(default_factory=list)  # every URL redirected to, in order
    not_modified: bool = False
    error: str | None = None
    retry_count: int = 0
    from_robots_block: bool = False
    reason: str = ""  # the status line's reason phrase
    http_version: str = "HTTP/1.1"
    request_headers: dict[str, str] = field(default_factory=dict)
    fetched_at: str = ""  # ISO 8601, UTC, when the final response arrived
    truncated: str | None = None  # "length" or "time" when the body is incomplete

    @property
    def ok(self) -> bool:
        return self.error is None and (200 <= self.status < 300 or self.not_modified)


class _HostState:
    def __init__(self) -> None:
        self.lock = threading.Lock()  # one request in flight per host
        self.last_start: float | None = None
        self.not_before = 0.0  # a Retry-After from this host
        self.robots: Protego | None = None
        self.robots_error: str | None = None  # set: the host is not fetched
        self.robots_expires = float("-inf")
        self.crawl_delay = 0.0


class _Failure(Exception):
    """One attempt's failure, with whether it is worth retrying."""

    def __init__(self, message: str, retryable: bool = False, status: int = 0) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status = status


class Fetcher:
    """A polite HTTP client on one requests.Session; safe to share between threads."""

    def __init__(
        self,
        user_agent: str | None = None,
        contact: str | None = None,
        min_interval: float = 5.0,
        timeout: float = 20.0,
        max_bytes: int = 10_000_000,
        max_redirects: int = 5,
        retries: int = 3,
        backoff: float = 1.0,
        max_retry_after: float = 120.0,
        robots_ttl: float = 86400,
        respect_robots: bool = True,
        max_workers: int = 8,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if user_agent is None:
            user_agent = f"newsclf/{__version__}" + (f" (+{contact})" if contact else "")
        elif contact and contact not in user_agent:
            user_agent = f"{user_agent} (+{contact})"
        self.user_agent = user_agent
        self.contact = contact
        self.robots_agent = "newsclf"  # the product token robots.txt groups are matched against
        self.min_interval = float(min_interval)
        self.timeout = float(timeout)
        self.max_bytes = int(max_bytes)
        self.max_redirects = int(max_redirects)
        self.retries = int(retries)
        self.backoff = float(backoff)
        self.max_retry_after = float(max_retry_after)
        self.robots_ttl = float(robots_ttl)
        self.respect_robots = respect_robots
        self.max_workers = int(max_workers)
        self.clock = clock
        self.sleep = sleep
        self._hosts: dict[str, _HostState] = {}
        self._hosts_lock = threading.Lock()
        self.session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(
            pool_connections=max(10, max_workers), pool_maxsize=max(10, max_workers), max_retries=0
        )
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.max_redirects = 5  # only robots.txt follows redirects automatically (RFC 9309)
        self.session.headers.update(
            {"User-Agent": self.user_agent, "Accept-Encoding": "gzip, deflate"}
        )

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> "Fetcher":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- public -------------------------------------------------------------------------------

    def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str = "html",
    ) -> FetchResult:
        """Fetch one URL by the rules above; never raises for network or HTTP problems."""
        started = self.clock()
        result = FetchResult(url=url, final_url=url)
        try:
            self._fetch(result, etag=etag, last_modified=last_modified, accept=accept)
        except Exception as exc:  # a bug or an odd library error must still not kill a batch
            result.error = result.error or f"unexpected error: {type(exc).__name__}: {exc}"
        result.elapsed = self.clock() - started
        return result

    def fetch_many(self, urls: Iterable[str], **kw: Any) -> Iterator[FetchResult]:
        """Fetch many URLs, hosts in parallel (max_workers), each host paced; yields as they finish.

        URLs of one host are fetched in the order given, one after another; the iterable is read
        whole before the first fetch starts. Closing the generator early lets the fetches under
        way finish and starts no others.
        """
        by_host: dict[str, list[str]] = {}
        for url in urls:
            by_host.setdefault(_host_key(url), []).append(url)
        if not by_host:
            return
        done: queue.Queue = queue.Queue()
        total = sum(len(v) for v in by_host.values())
        stop = threading.Event()  # set when the caller stops reading: no new fetches start

        def run_host(host_urls: list[str]) -> None:
            for u in host_urls:
                if stop.is_set():
                    return
                done.put(self.fetch(u, **kw))

        with ThreadPoolExecutor(
            max_workers=max(1, min(self.max_workers, len(by_host))),
            thread_name_prefix="newsclf-fetch",
        ) as pool:
            futures = [pool.submit(run_host, group) for group in by_host.values()]
            try:
                for _ in range(total):
                    yield done.get()
            finally:
                stop.set()
                for fut in futures:
                    fut.cancel()

    def allowed(self, url: str) -> tuple[bool, str | None]:
        """(allowed, reason) for a URL by robots.txt, fetching robots.txt if not cached."""
        host = self._host(url)
        with host.lock:
            return self._robots_check(url, host)

    # -- internals ----------------------------------------------------------------------------

    def _host(self, url: str) -> _HostState:
        key = _host_key(url)
        with self._hosts_lock:
            state = self._hosts.get(key)
            if state is None:
                state = self._hosts[key] = _HostState()
            return state

    def _interval(self, host: _HostState) -> float:
        return max(self.min_interval, host.crawl_delay)

    def _wait_turn(self, host: _HostState) -> None:
        """With host.lock held: sleep until this host may get a new request, then mark its start."""
        while True:
            now = self.clock()
            ready = host.not_before
            if host.last_start is not None:
                ready = max(ready, host.last_start + self._interval(host))
            if now >= ready:
                host.last_start = now
                return
            self.sleep(ready - now)

    def _robots_check(self, url: str, host: _HostState) -> tuple[bool, str | None]:
        """With host.lock held: robots.txt's verdict for url."""
        if not self.respect_robots:
            return True, None
        if self.clock() >= host.robots_expires:
            self._load_robots(url, host)
        if host.robots_error:
            return False, host.robots_error
        if host.robots is not None and not host.robots.can_fetch(url, self.robots_agent):
            return False, "refused by robots.txt"
        return True, None

    def _load_robots(self, url: str, host: _HostState) -> None:
        parts = urlsplit(url)
        robots_url = urlunsplit((parts.scheme, parts.netloc, "/robots.txt", "", ""))
        self._wait_turn(host)
        host.robots, host.robots_error, host.crawl_delay = None, None, 0.0
        ttl = self.robots_ttl
        try:
            resp = self.session.get(
                robots_url,
                timeout=self.timeout,
                stream=True,
                headers={"Accept": "text/plain,*/*;q=0.5"},
            )
            try:
                status = resp.status_code
                if 200 <= status < 300:
                    try:
                        data = _read_limited(
                            resp, ROBOTS_MAX_BYTES, self.clock() + self.timeout, self.clock
                        )
                    except _TooLarge as big:  # RFC 9309: rules past the limit may be ignored
                        data = big.partial
                    text = data.decode("utf-8", errors="replace").lstrip("\ufeff")
                    host.robots = Protego.parse(text)
                    delay = host.robots.crawl_delay(self.robots_agent)
                    host.crawl_delay = float(delay) if delay else 0.0
                elif status == 429 or status >= 500:
                    host.robots_error = (
                        f"refused by robots.txt: {robots_url} answered HTTP {status}, so the "
                        f"host is treated as disallowed for {ttl:g} s"
                    )
                # other 4xx (and odd 1xx/3xx left after redirects): no rules, everything allowed
            finally:
                resp.close()
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError, _Failure) as exc:
            host.robots_error = (
                f"refused by robots.txt: {robots_url} could not be read"
                f" ({_describe(exc, self.timeout)}), so the host is treated as disallowed for"
                f" {ttl:g} s"
            )
        host.robots_expires = self.clock() + ttl

    def _fetch(
        self, result: FetchResult, *, etag: str | None, last_modified: str | None, accept: str
    ) -> None:
        if accept not in ACCEPT_HEADERS:
            raise ValueError(f"accept must be one of {sorted(ACCEPT_HEADERS)}, not {accept!r}")
        headers = {"Accept": ACCEPT_HEADERS[accept]}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        url = result.url
        seen = {_loop_key(url)}
        while True:
            scheme = urlsplit(url).scheme.lower()
            if scheme not in ("http", "https"):
                result.error = (
                    f"not an HTTP URL: {url}"
                    if not result.redirects
                    else f"redirect to non-HTTP scheme {scheme}:"
                )
                return
            answer = self._request_with_retries(url, headers, result)
            if answer is None:
                return
            resp, deadline = answer
            status = resp.status_code
            if status in REDIRECT_STATUSES and resp.headers.get("Location"):
                location = urljoin(url, resp.headers["Location"].strip())
                resp.close()
                result.redirects.append(location)
                next_scheme = urlsplit(location).scheme.lower()
                if next_scheme not in ("http", "https"):
                    result.error = f"redirect to non-HTTP scheme {next_scheme}: ({location})"
                    return
                if _loop_key(location) in seen:
                    result.error = f"redirect loop: {location} was already visited"
                    return
                if len(result.redirects) > self.max_redirects:
                    result.error = (
                        f"too many redirects ({len(result.redirects)}); the limit is"
                        f" {self.max_redirects}"
                    )
                    return
                seen.add(_loop_key(location))
                result.final_url = location
                url = location
                continue
            try:
                self._finish(resp, result, accept, deadline)
            finally:
                resp.close()
            return

    def _request_with_retries(
        self, url: str, headers: dict[str, str], result: FetchResult
    ) -> tuple[requests.Response, float] | None:
        """One hop: robots check, pacing, request, retries. (response, deadline), or None when
        result.error says why."""
        host = self._host(url)
        attempt = 0
        while True:
            with host.lock:
                ok, reason = self._robots_check(url, host)
                if not ok:
                    result.error = reason
                    result.from_robots_block = True
                    return None
                self._wait_turn(host)
                deadline = self.clock() + self.timeout
                try:
                    resp = self.session.get(
                        url,
                        headers=headers,
                        allow_redirects=False,
                        stream=True,
                        timeout=(self.timeout, self.timeout),
                    )
                    failure = None
                except requests.exceptions.ConnectTimeout:
                    failure = _Failure(
                        f"timed out after {self.timeout:g} s (connecting to"
                        f" {urlsplit(url).netloc})",
                        retryable=True,
                    )
                except requests.exceptions.ReadTimeout:
                    failure = _Failure(
                        f"timed out after {self.timeout:g} s (waiting for the response headers)"
                    )
                except requests.exceptions.InvalidURL as exc:
                    result.error = f"invalid URL {url}: {exc}"
                    return None
                except requests.exceptions.ConnectionError as exc:
                    failure = _Failure(
                        f"connection failed: {_describe(exc, self.timeout)}", retryable=True
                    )
                except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
                    failure = _Failure(f"request failed: {_describe(exc, self.timeout)}")
                if failure is None:
                    _set_deadline(resp, deadline, self.clock)
                    result.status = resp.status_code
                    if resp.status_code not in RETRY_STATUSES:
                        return resp, deadline
                    wait = _retry_after(resp.headers.get("Retry-After"))
                    resp.close()
                    failure = _Failure(
                        f"HTTP {resp.status_code}", retryable=True, status=resp.status_code
                    )
                else:
                    wait = None
                if not failure.retryable or attempt >= self.retries:
                    result.status = failure.status
                    result.error = str(failure) + (f" (after {attempt} retries)" if attempt else "")
                    return None
                if wait is not None and wait > self.max_retry_after:
                    result.status = failure.status
                    result.error = (
                        f"{failure}: the server asked to retry after {wait:g} s, over the "
                        f"{self.max_retry_after:g} s limit; giving up"
                    )
                    return None
                if wait is None:
                    wait = self.backoff * (2**attempt)
                # The whole host waits, not just this URL: the server asked us to slow down.
                host.not_before = max(host.not_before, self.clock() + wait)
            attempt += 1
            result.retry_count = attempt

    def _finish(
        self, resp: requests.Response, result: FetchResult, accept: str, deadline: float
    ) -> None:
        result.status = resp.status_code
        result.reason = resp.reason or ""
        result.http_version = {10: "HTTP/1.0", 11: "HTTP/1.1"}.get(
            getattr(resp.raw, "version", 11), "HTTP/1.1"
        )
        result.headers = dict(resp.headers)
        result.request_headers = dict(resp.request.headers) if resp.request is not None else {}
        result.fetched_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        ctype_header = resp.headers.get("Content-Type", "")
        media_type = ctype_header.split(";")[0].strip().lower() or None
        if media_type == "application/octet-stream" and accept == "feed":
            # Servers' default for a suffix they do not know (.opml under `python -m http.server`):
            # judged by its body, as a feed with no Content-Type is.
            media_type = None
        result.content_type = media_type
        if resp.status_code == 304:
            result.not_modified = True
            return
        is_success = 200 <= resp.status_code < 300
        if is_success and media_type and not _type_ok(media_type, accept):
            result.error = f"unexpected content type {media_type}"
            return
        if not is_success:  # keep what the error page says, but the status is the news
            result.error = f"HTTP {resp.status_code}"
            try:
                result.body = _read_limited(resp, self.max_bytes, deadline, self.clock)
            except _TooLarge as exc:
                result.body, result.truncated = exc.partial, "length"
            except (_Failure, requests.RequestException, urllib3.exceptions.HTTPError, OSError):
                result.truncated = "time"
            return
        length = resp.headers.get("Content-Length")
        if length and length.strip().isdigit() and int(length) > self.max_bytes:
            result.error = (
                f"too large: Content-Length {int(length):,} is over {self.max_bytes:,} bytes"
            )
            result.truncated = "length"
            return
        try:
            result.body = _read_limited(resp, self.max_bytes, deadline, self.clock)
        except _TooLarge as exc:
            result.body = exc.partial
            result.truncated = "length"
            result.error = f"too large: over {self.max_bytes:,} bytes"
            return
        except _Failure as exc:
            result.truncated = "time"
            result.error = str(exc)
            return
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            result.error = f"download failed: {_describe(exc, self.timeout)}"
            if isinstance(exc, (urllib3.exceptions.ReadTimeoutError, socket.timeout, TimeoutError)):
                result.error = f"timed out after {self.timeout:g} s (reading the body)"
                result.truncated = "time"
            return
        if media_type is None:
            if not _sniff_ok(result.body, accept):
                result.error = f"no Content-Type, and the body does not look like {accept}"
                return
            result.content_type = media_type = "text/html" if accept == "html" else None
        if media_type is None or _is_text(media_type):
            result.text, result.encoding = decode_body(result.body, ctype_header, media_type or "")


# -- helpers ----------------------------------------------------------------------------------


class _TooLarge(Exception):
    def __init__(self, partial: bytes) -> None:
        super().__init__("too large")
        self.partial = partial


def _host_key(url: str) -> str:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    try:
        port = parts.port or {"http": 80, "https": 443}.get(scheme, 0)
    except ValueError:
        port = 0
    return f"{scheme}://{host}:{port}"


def _loop_key(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", parts.query, "")
    )


def _describe(exc: BaseException, timeout: float) -> str:
    text = str(exc)
    if isinstance(
        exc, (requests.exceptions.Timeout, urllib3.exceptions.TimeoutError, socket.timeout)
    ):
        return f"timed out after {timeout:g} s"
    # requests wraps urllib3's long reprs; the innermost reason is the readable part
    match = re.search(
        r"\[Errno -?\d+\] [^'\")]+|Connection refused|Name or service not known|"
        r"Remote end closed connection[^'\")]*",
        text,
    )
    return match.group(0) if match else (text[:200] or type(exc).__name__)


def _retry_after(value: str | None) -> float | None:
    """Retry-After as seconds from now: delta-seconds or an HTTP date; None if absent or
    unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def _socket_of(resp: requests.Response) -> socket.socket | None:
    raw = resp.raw
    conn = getattr(raw, "_connection", None) or getattr(raw, "connection", None)
    sock = getattr(conn, "sock", None)
    if sock is None:
        fp = getattr(raw, "_fp", None)
        inner = getattr(getattr(fp, "fp", None), "raw", None)
        sock = getattr(inner, "_sock", None)
    return sock if isinstance(sock, socket.socket) else None


def _set_deadline(resp: requests.Response, deadline: float, clock: Callable[[], float]) -> None:
    """Shorten the socket's read time-out so no single read outlives the fetch's deadline."""
    sock = _socket_of(resp)
    if sock is not None:
        try:
            sock.settimeout(max(0.01, deadline - clock()))
        except OSError:
            pass


def _read_limited(
    resp: requests.Response, limit: int, deadline: float, clock: Callable[[], float]
) -> bytes:
    """Read the decoded body, at most `limit` bytes, by `deadline`; raises _TooLarge or _Failure."""
    chunks: list[bytes] = []
    total = 0
    timeout = max(0.0, deadline - clock())
    sock = _socket_of(resp)
    try:
        for chunk in resp.raw.stream(CHUNK, decode_content=True):
            total += len(chunk)
            if total > limit:
                keep = len(chunk) - (total - limit)
                chunks.append(chunk[:keep])
                raise _TooLarge(b"".join(chunks))
            chunks.append(chunk)
            remaining = deadline - clock()
            if remaining <= 0:
                raise _Failure(f"timed out after {_fmt(timeout)} s (the body did not finish)")
            if sock is not None:
                try:
                    sock.settimeout(max(0.01, remaining))
                except OSError:
                    pass
    except (urllib3.exceptions.ReadTimeoutError, socket.timeout, TimeoutError):
        raise _Failure(f"timed out after {_fmt(timeout)} s (the body did not finish)") from None
    except urllib3.exceptions.ProtocolError as exc:
        if "timed out" in str(exc).lower():
            raise _Failure(f"timed out after {_fmt(timeout)} s (the body did not finish)") from None
        raise
    return b"".join(chunks)


def _fmt(seconds: float) -> str:
    return f"{round(seconds, 1):g}"


def _type_ok(media_type: str, accept: str) -> bool:
    if accept == "any":
        return True
    if accept == "html":
        return media_type in HTML_TYPES
    # feeds: RSS, Atom, RDF, JSON Feed, and text types
    return (
        media_type.startswith("text/")
        or "xml" in media_type
        or "rss" in media_type
        or "atom" in media_type
        or "json" in media_type
    )


def _sniff_ok(body: bytes, accept: str) -> bool:
    head = body[:SNIFF_BYTES]
    for bom, _ in _BOMS:
        if head.startswith(bom):
            head = head[len(bom) :]
            break
    head = head.lstrip().lower()
    if accept == "any":
        return True
    if accept == "html":
        return head.startswith(b"<") and any(
            tag in head
            for tag in (b"<html", b"<!doctype html", b"<head", b"<body", b"<p", b"<div", b"<title")
        )
    return head.startswith((b"<", b"{"))


def _is_text(media_type: str) -> bool:
    return (
        media_type.startswith("text/")
        or "xml" in media_type
        or "json" in media_type
        or "javascript" in media_type
        or media_type in HTML_TYPES
    )


def decode_body(
    body: bytes, content_type_header: str = "", media_type: str = ""
) -> tuple[str, str]:
    """(text, encoding) of a response body, its Content-Type charset first."""
    return decode(body, charset_of(content_type_header))
