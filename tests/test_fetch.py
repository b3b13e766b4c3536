"""The polite fetcher against a real HTTP server on 127.0.0.1, with real (short) waits."""

from __future__ import annotations

import email.utils
import gzip
import http.client
import socket
import threading
import time
from pathlib import Path

import pytest
from localserver import LocalServer, Response, html

from newsclf.collect.fetch import Fetcher, FetchResult, _retry_after, decode_body

CONTACT = "mailto:coverage-lab@example.org"
# The server stamps a request when it has read its headers; the fetcher stamps it before
# connecting. The two can differ by a few milliseconds, so gaps measured at the server get this
# slack.
SLACK = 0.05

PAGE = "<!doctype html><html><head><title>t</title></head><body><p>Hello</p></body></html>"


def make(**kw) -> Fetcher:
    opts = dict(contact=CONTACT, min_interval=0.0, timeout=5.0, backoff=0.05, retries=3)
    opts.update(kw)
    return Fetcher(**opts)


def starts(server: LocalServer, path: str | None = None, host: str | None = None) -> list[float]:
    return [entry[0] for entry in server.requests(path, host=host)]


def gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in zip(times, times[1:])]


# -- robots.txt --------------------------------------------------------------------------------


def test_robots_disallow_with_wildcards(local_server):
    local_server.route(
        "/robots.txt",
        (
            200,
            {"Content-Type": "text/plain"},
            b"User-agent: *\nDisallow: /*.pdf$\nDisallow: /private/\n",
        ),
    )
    local_server.route("/*", html(PAGE))
    f = make()
    cases = {
        "/report.pdf": False,
        "/files/annual.pdf": False,
        "/private/notes": False,
        "/report.pdf?page=2": True,  # `$` anchors the rule at the end of the URL
        "/privately-held": True,
        "/news/ai": True,
    }
    for path, allowed in cases.items():
        result = f.fetch(local_server.url(path), accept="any")
        if allowed:
            assert result.error is None, (path, result.error)
            assert result.status == 200
        else:
            assert result.error == "refused by robots.txt", path
            assert result.from_robots_block and result.status == 0
    asked = [urlpath for _, _, urlpath, _ in local_server.log]
    assert asked.count("/robots.txt") == 1  # fetched once, then cached
    assert not any(
        p.startswith("/private/") or p.split("?")[0].endswith(".pdf") and "?" not in p
        for p in asked
    )


def test_robots_group_for_newsclf_wins_over_star(local_server):
    local_server.route(
        "/robots.txt",
        (
            200,
            {"Content-Type": "text/plain"},
            b"User-agent: newsclf\nDisallow: /\n\nUser-agent: *\nAllow: /\n",
        ),
    )
    local_server.route("/a", html(PAGE))
    result = make().fetch(local_server.url("/a"))
    assert result.from_robots_block and result.error == "refused by robots.txt"


def test_robots_404_allows_everything(local_server):
    local_server.route("/private/x", html(PAGE))  # /robots.txt is not routed: 404
    result = make().fetch(local_server.url("/private/x"))
    assert result.error is None and result.status == 200
    assert result.text and "Hello" in result.text


def test_robots_500_means_host_not_fetched(local_server):
    local_server.route("/robots.txt", (500, {"Content-Type": "text/plain"}, b"oops"))
    local_server.route("/a", html(PAGE))
    f = make()
    first = f.fetch(local_server.url("/a"))
    second = f.fetch(local_server.url("/a"))
    for result in (first, second):
        assert result.from_robots_block and result.status == 0
        assert result.error.startswith("refused by robots.txt") and "HTTP 500" in result.error
    assert [p for _, _, p, _ in local_server.log] == ["/robots.txt"]  # cached, page never asked


def test_robots_unreachable_blocks_and_expires(local_server):
    calls = []

    def robots(req):
        calls.append(req.time)
        if len(calls) == 1:
            return Response(503, {"Content-Type": "text/plain"}, b"busy")
        return Response(200, {"Content-Type": "text/plain"}, b"User-agent: *\nAllow: /\n")

    local_server.route("/robots.txt", robots)
    local_server.route("/a", html(PAGE))
    f = make(robots_ttl=0.3)
    assert f.fetch(local_server.url("/a")).from_robots_block
    time.sleep(0.35)
    result = f.fetch(local_server.url("/a"))
    assert result.error is None and len(calls) == 2


# -- pacing ------------------------------------------------------------------------------------


def test_per_host_interval_and_hosts_in_parallel(local_server):
    local_server.route("/p/*", html(PAGE))
    f = make(min_interval=0.3)
    urls = [
        local_server.url(f"/p/{i}", host=h) for i in range(3) for h in ("127.0.0.1", "localhost")
    ]
    results = list(f.fetch_many(urls))
    assert len(results) == 6 and all(r.error is None for r in results), [r.error for r in results]
    spans = {}
    for host in ("127.0.0.1", "localhost"):
        times = starts(local_server, host=host)
        assert len(times) == 4  # robots.txt + 3 pages: the robots fetch counts as a request
        assert all(g >= 0.3 - SLACK for g in gaps(times)), gaps(times)
        spans[host] = (times[0], times[-1])
    (a0, a1), (b0, b1) = spans.values()
    assert a0 < b1 and b0 < a1  # the two hosts were fetched at the same time, not one after another


def test_one_request_in_flight_per_host(local_server):
    active = []
    peak = []
    lock = threading.Lock()

    def slow(req):
        with lock:
            active.append(1)
            peak.append(len(active))
        time.sleep(0.15)
        with lock:
            active.pop()
        return html(PAGE)

    local_server.route("/s/*", slow)
    f = make(min_interval=0.0)
    results = list(f.fetch_many([local_server.url(f"/s/{i}") for i in range(4)]))
    assert all(r.ok for r in results)
    assert max(peak) == 1


def test_crawl_delay_is_honoured(local_server):
    local_server.route(
        "/robots.txt",
        (
            200,
            {"Content-Type": "text/plain"},
            b"User-agent: *\nCrawl-delay: 0.4\nDisallow: /nothing/\n",
        ),
    )
    local_server.route("/p/*", html(PAGE))
    f = make(min_interval=0.05)
    for i in range(3):
        assert f.fetch(local_server.url(f"/p/{i}")).ok
    times = starts(local_server)
    assert len(times) == 4
    assert all(g >= 0.4 - SLACK for g in gaps(times[1:])), gaps(times)


# -- retries -----------------------------------------------------------------------------------


def flaky(first: Response):
    count = {"n": 0}

    def handler(req):
        count["n"] += 1
        return first if count["n"] == 1 else html(PAGE)

    return handler


def test_429_retry_after_is_obeyed(local_server):
    local_server.route(
        "/r", flaky(Response(429, {"Retry-After": "1", "Content-Type": "text/plain"}, b"slow down"))
    )
    result = make().fetch(local_server.url("/r"))
    assert result.ok and result.status == 200 and result.retry_count == 1
    t = starts(local_server, "/r")
    assert len(t) == 2 and t[1] - t[0] >= 1.0 - SLACK


def test_503_then_200_is_retried(local_server):
    local_server.route("/r", flaky(Response(503, {"Content-Type": "text/plain"}, b"busy")))
    result = make(backoff=0.05).fetch(local_server.url("/r"))
    assert result.ok and result.retry_count == 1 and "Hello" in result.text


def test_retries_give_up_with_the_status(local_server):
    local_server.route("/r", Response(502, {"Content-Type": "text/plain"}, b"bad gateway"))
    result = make(backoff=0.01, retries=2).fetch(local_server.url("/r"))
    assert result.status == 502 and result.retry_count == 2
    assert result.error == "HTTP 502 (after 2 retries)"
    assert len(starts(local_server, "/r")) == 3


def test_retry_after_too_long_gives_up_at_once(local_server):
    local_server.route(
        "/r", Response(503, {"Retry-After": "3600", "Content-Type": "text/plain"}, b"maintenance")
    )
    t0 = time.monotonic()
    result = make(max_retry_after=2).fetch(local_server.url("/r"))
    assert time.monotonic() - t0 < 1.0
    assert result.status == 503 and "3600 s" in result.error and "2 s limit" in result.error
    assert len(starts(local_server, "/r")) == 1


def test_retry_after_as_http_date():
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= _retry_after(later) <= 31
    assert _retry_after("7") == 7.0
    assert _retry_after("soon") is None and _retry_after(None) is None


def test_connection_refused_is_retried_then_reported():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = make(respect_robots=False, retries=2, backoff=0.01).fetch(f"http://127.0.0.1:{port}/x")
    assert result.status == 0 and result.retry_count == 2
    assert result.error.startswith("connection failed")


def test_refused_host_blocks_by_robots():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = make().fetch(f"http://127.0.0.1:{port}/x")
    assert result.from_robots_block and "could not be read" in result.error


# -- conditional GET ---------------------------------------------------------------------------


def test_second_conditional_fetch_is_not_modified(local_server):
    def page(req):
        if req.headers.get("If-None-Match") == '"v1"':
            return Response(304, {"ETag": '"v1"'}, b"")
        return html(PAGE, ETag='"v1"', Last_Modified="Mon, 01 May 2023 10:00:00 GMT")

    local_server.route("/c", page)
    f = make()
    first = f.fetch(local_server.url("/c"))
    assert first.ok and not first.not_modified
    second = f.fetch(
        local_server.url("/c"),
        etag=first.headers["ETag"],
        last_modified=first.headers["Last-Modified"],
    )
    assert (
        second.not_modified and second.status == 304 and second.error is None and second.body == b""
    )
    sent = local_server.requests("/c")[-1][3]
    assert (
        sent["If-None-Match"] == '"v1"'
        and sent["If-Modified-Since"] == "Mon, 01 May 2023 10:00:00 GMT"
    )


def test_conditional_fetch_of_a_static_file(local_server, tmp_path):
    (tmp_path / "feed.xml").write_text("<rss version='2.0'><channel></channel></rss>")
    local_server.serve_dir("/site", tmp_path)
    f = make()
    first = f.fetch(local_server.url("/site/feed.xml"), accept="feed")
    assert first.ok and first.content_type == "application/rss+xml"
    second = f.fetch(
        local_server.url("/site/feed.xml"),
        accept="feed",
        last_modified=first.headers["Last-Modified"],
    )
    assert second.not_modified


# -- redirects ---------------------------------------------------------------------------------


def redirect(to: str, status: int = 301) -> Response:
    return Response(status, {"Location": to, "Content-Length": "0"}, b"")


def test_redirect_chain_is_recorded(local_server):
    final = local_server.url("/final", host="localhost")
    local_server.route("/r1", redirect("/r2"))
    local_server.route("/r2", redirect(final, 302))
    local_server.route("/final", html(PAGE))
    result = make().fetch(local_server.url("/r1"))
    assert result.ok
    assert result.redirects == [local_server.url("/r2"), final]
    assert result.final_url == final
    # each hop's host was robots-checked: one robots.txt per host name
    assert len(local_server.requests("/robots.txt")) == 2


def test_redirect_hops_are_robots_checked(local_server):
    local_server.route(
        "/robots.txt",
        (200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /private/\n"),
    )
    local_server.route("/go", redirect("/private/x"))
    result = make().fetch(local_server.url("/go"))
    assert result.from_robots_block and result.error == "refused by robots.txt"
    assert not local_server.requests("/private/x")


def test_redirect_loop_is_stopped(local_server):
    local_server.route("/a", redirect("/b"))
    local_server.route("/b", redirect("/a"))
    result = make().fetch(local_server.url("/a"))
    assert result.error.startswith("redirect loop") and local_server.url("/a") in result.error


def test_too_many_redirects(local_server):
    local_server.route(
        "/hop/*", lambda req: redirect(f"/hop/{int(req.route_path.rsplit('/', 1)[1]) + 1}")
    )
    result = make(max_redirects=5).fetch(local_server.url("/hop/0"))
    assert result.error.startswith("too many redirects (6)")
    assert len(result.redirects) == 6 and len(local_server.requests()) == 1 + 6  # robots + 6 hops


def test_redirect_to_ftp_is_refused(local_server):
    local_server.route("/f", redirect("ftp://files.example.org/a.html"))
    result = make().fetch(local_server.url("/f"))
    assert result.error.startswith("redirect to non-HTTP scheme ftp:")


# -- size caps ---------------------------------------------------------------------------------


def test_oversized_page_with_content_length(local_server):
    local_server.route("/big", html("<p>" + "x" * 5000 + "</p>"))
    result = make(max_bytes=1000).fetch(local_server.url("/big"))
    assert result.error.startswith("too large") and "1,000 bytes" in result.error
    assert result.body == b""


def test_oversized_chunked_page_without_length(local_server):
    def chunks():
        for _ in range(20):
            yield b"<p>" + b"y" * 497 + b"</p>"

    local_server.route("/big", Response(200, {"Content-Type": "text/html"}, chunks()))
    result = make(max_bytes=1000).fetch(local_server.url("/big"))
    assert result.error == "too large: over 1,000 bytes"
    assert len(result.body) == 1000 and result.truncated == "length"


def test_gzip_bomb_is_stopped(local_server):
    bomb = gzip.compress(b"<html>" + b" " * 30_000_000, compresslevel=9)
    assert len(bomb) < 100_000
    local_server.route(
        "/bomb", Response(200, {"Content-Type": "text/html", "Content-Encoding": "gzip"}, bomb)
    )
    t0 = time.monotonic()
    result = make(max_bytes=1_000_000).fetch(local_server.url("/bomb"))
    assert result.error == "too large: over 1,000,000 bytes"
    assert len(result.body) <= 1_000_000
    assert time.monotonic() - t0 < 3


def test_gzip_page_is_decoded(local_server):
    local_server.route(
        "/gz",
        Response(
            200,
            {"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip"},
            gzip.compress(PAGE.encode()),
        ),
    )
    result = make().fetch(local_server.url("/gz"))
    assert result.ok and result.text == PAGE


# -- content type and decoding -----------------------------------------------------------------

CP1252_TEXT = "Le café coûte 5 € — “des guillemets” et ‘simples’, naïve résumé."


@pytest.mark.parametrize(
    "content_type, body, encoding",
    [
        ("text/html", f"<html><body><p>{CP1252_TEXT}</p></body></html>".encode("cp1252"), "cp1252"),
        ("text/html; charset=windows-1252", f"<p>{CP1252_TEXT}</p>".encode("cp1252"), "cp1252"),
        (
            "text/html; charset=ISO-8859-1",
            f"<p>{CP1252_TEXT}</p>".encode("cp1252"),
            "cp1252",
        ),  # as browsers read it
        (
            "text/html",
            f'<html><head><meta charset="windows-1252"></head><p>{CP1252_TEXT}</p>'.encode(
                "cp1252"
            ),
            "cp1252",
        ),
        (
            "text/html",
            '<meta http-equiv="Content-Type" content="text/html;'
            f' charset=windows-1252"><p>{CP1252_TEXT}'.encode("cp1252"),
            "cp1252",
        ),
        ("text/html", f"<html><body><p>{CP1252_TEXT}</p></body></html>".encode("utf-8"), "utf-8"),
        ("text/html", b"\xef\xbb\xbf" + f"<p>{CP1252_TEXT}</p>".encode("utf-8"), "utf-8"),
        ("text/html; charset=utf-8", f"<p>{CP1252_TEXT}</p>".encode("utf-8"), "utf-8"),
    ],
)
def test_decoding(local_server, content_type, body, encoding):
    local_server.route("/d", Response(200, {"Content-Type": content_type}, body))
    result = make().fetch(local_server.url("/d"))
    assert result.ok, result.error
    assert CP1252_TEXT in result.text
    assert result.encoding.replace("-", "_") == encoding.replace("-", "_")


def test_page_without_content_type_is_sniffed_as_html(local_server):
    local_server.route("/n", Response(200, {}, PAGE.encode()))
    result = make().fetch(local_server.url("/n"))
    assert result.ok and result.content_type == "text/html" and "Hello" in result.text


def test_decoding_other_scripts_is_left_to_the_guesser():
    text = "Искусственный интеллект меняет работу журналистов и редакций по всему миру."
    decoded, enc = decode_body(("<p>" + text + "</p>").encode("cp1251"))
    assert text in decoded and enc == "cp1251"


def test_wrong_content_type_is_reported(local_server):
    local_server.route("/doc", Response(200, {"Content-Type": "application/pdf"}, b"%PDF-1.4 ..."))
    result = make().fetch(local_server.url("/doc"))
    assert result.error == "unexpected content type application/pdf"
    assert result.body == b"" and result.status == 200


def test_feed_types(local_server):
    rss = (
        b"<?xml version='1.0' encoding='utf-8'?><rss"
        b" version='2.0'><channel><title>K</title></channel></rss>"
    )
    local_server.route("/feed", Response(200, {"Content-Type": "application/rss+xml"}, rss))
    f = make()
    assert f.fetch(local_server.url("/feed"), accept="feed").ok
    assert f.fetch(local_server.url("/feed"), accept="feed").text.startswith("<?xml")
    assert f.fetch(local_server.url("/feed")).error == "unexpected content type application/rss+xml"


def test_http_error_status(local_server):
    result = make().fetch(local_server.url("/missing"))
    assert result.status == 404 and result.error == "HTTP 404"


# -- time-outs ---------------------------------------------------------------------------------


def test_page_that_never_finishes_times_out(local_server):
    def stuck():
        yield b"<html><body><p>start"
        time.sleep(4)  # never gets to the end in time
        yield b"</p></body></html>"

    local_server.route("/stuck", Response(200, {"Content-Type": "text/html"}, stuck()))
    t0 = time.monotonic()
    result = make(timeout=1.0).fetch(local_server.url("/stuck"))
    took = time.monotonic() - t0
    assert result.error.startswith("timed out after 1 s"), result.error
    assert took < 2.0
    assert result.truncated == "time"


def test_trickling_page_is_bounded_in_total(local_server):
    def trickle():
        for _ in range(40):  # a byte every 0.1 s: every read is quick, the page is endless
            yield b"x"
            time.sleep(0.1)

    local_server.route("/trickle", Response(200, {"Content-Type": "text/html"}, trickle()))
    t0 = time.monotonic()
    result = make(timeout=1.0).fetch(local_server.url("/trickle"))
    assert result.error.startswith("timed out after 1 s")
    assert time.monotonic() - t0 < 2.0


def test_headers_that_never_come_time_out(local_server):
    def slow(req):
        time.sleep(3)
        return html(PAGE)

    local_server.route("/slow", slow)
    t0 = time.monotonic()
    result = make(timeout=0.5, retries=0).fetch(local_server.url("/slow"))
    assert result.error.startswith("timed out after 0.5 s")
    assert result.status == 0 and time.monotonic() - t0 < 1.5


# -- identity ----------------------------------------------------------------------------------


def test_user_agent_names_newsclf_and_the_contact(local_server):
    local_server.route("/a", html(PAGE))
    make().fetch(local_server.url("/a"))
    agents = {path: headers.get("User-Agent", "") for _, _, path, headers in local_server.log}
    assert set(agents) == {"/robots.txt", "/a"}
    for agent in agents.values():
        assert agent.startswith("newsclf/") and CONTACT in agent


def test_custom_user_agent_keeps_the_contact():
    f = Fetcher(user_agent="newsclf-lab-crawler/2", contact=CONTACT)
    assert f.user_agent == f"newsclf-lab-crawler/2 (+{CONTACT})"


def test_fetch_many_yields_every_result(local_server):
    local_server.route("/ok", html(PAGE))
    urls = [
        local_server.url("/ok"),
        local_server.url("/missing"),
        local_server.url("/ok", host="localhost"),
    ]
    results = list(make().fetch_many(urls))
    assert sorted(r.url for r in results) == sorted(urls)
    assert all(isinstance(r, FetchResult) for r in results)
    assert sorted(r.status for r in results) == [200, 200, 404]


# -- the local server itself -------------------------------------------------------------------

SITE = Path(__file__).resolve().parents[1] / "corpora" / "ai-discourse-demo" / "site"


@pytest.mark.skipif(not (SITE / "robots.txt").exists(), reason="the demo site is not built")
def test_demo_site_served_and_fetched(local_server):
    local_server.serve_dir("/", SITE)
    f = make()
    home = f.fetch(local_server.url("/index.html"))
    assert home.ok and home.content_type == "text/html" and home.text
    feed = f.fetch(local_server.url("/feed.xml"), accept="feed")
    assert feed.ok and feed.content_type == "application/rss+xml"
    assert f.fetch(local_server.url("/private/anything")).error == "refused by robots.txt"


@pytest.mark.parametrize(
    "path",
    [
        "/site/../secret.txt",
        "/site/%2e%2e/secret.txt",
        "/site/sub/../../secret.txt",
        "/site/..%2fsecret.txt",
    ],
)
def test_serve_dir_refuses_traversal(local_server, tmp_path, path):
    (tmp_path / "secret.txt").write_text("do not serve")
    public = tmp_path / "public"
    public.mkdir()
    (public / "index.html").write_text(PAGE)
    local_server.serve_dir("/site", public)
    conn = http.client.HTTPConnection("127.0.0.1", local_server.port, timeout=5)
    try:
        conn.request("GET", path)  # http.client sends the path as it is, dots and all
        resp = conn.getresponse()
        body = resp.read()
    finally:
        conn.close()
    assert resp.status in (403, 404) and b"do not serve" not in body
    ok = make().fetch(local_server.url("/site/"))
    assert ok.ok and "Hello" in ok.text


def test_fetch_many_stops_when_the_caller_stops(local_server):
    local_server.route("/p/*", html(PAGE))
    f = make(min_interval=0.2)
    gen = f.fetch_many([local_server.url(f"/p/{i}") for i in range(10)])
    first = next(gen)
    assert first.ok
    t0 = time.monotonic()
    gen.close()
    assert time.monotonic() - t0 < 0.5  # does not sit through the other nine paced fetches
    time.sleep(0.3)
    assert len(local_server.requests()) <= 3  # robots.txt, the first page, at most one in flight
