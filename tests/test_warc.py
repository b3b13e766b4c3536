"""WARC writing and reading: real fetches from the local server, read back by warcio and
iter_warc."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest
from localserver import Response, html
from warcio.archiveiterator import ArchiveIterator

from newsclf.collect.fetch import Fetcher, FetchResult
from newsclf.collect.warc import WarcPage, WarcWriter, iter_warc
from newsclf.errors import InputError

PAGE = (
    "<!doctype html><html><head><title>{n}</title></head><body><p>Kabar {n}: café"
    " €</p></body></html>"
)
RSS = b"<?xml version='1.0'?><rss version='2.0'><channel><title>K</title></channel></rss>"


def fetched(server, n: int = 3) -> list[FetchResult]:
    for i in range(n):
        server.route(f"/news/{i}", html(PAGE.format(n=i)))
    server.route(
        "/gz",
        Response(
            200,
            {"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip"},
            gzip.compress(PAGE.format(n="gz").encode()),
        ),
    )
    server.route("/feed.xml", Response(200, {"Content-Type": "application/rss+xml"}, RSS))
    f = Fetcher(contact="mailto:lab@example.org", min_interval=0.0, timeout=5)
    results = [f.fetch(server.url(f"/news/{i}")) for i in range(n)]
    results.append(f.fetch(server.url("/gz")))
    results.append(f.fetch(server.url("/feed.xml"), accept="feed"))
    assert all(r.ok for r in results)
    return results


def write_all(directory: Path, results: list[FetchResult], **kw) -> WarcWriter:
    with WarcWriter(directory, **kw) as warc:
        for r in results:
            warc.write(r)
    return warc


def test_records_read_back_with_warcio(local_server, tmp_path):
    results = fetched(local_server)
    warc = write_all(tmp_path, results)
    assert len(warc.paths) == 1
    path = warc.paths[0]
    assert path.name.startswith("newsclf-") and path.name.endswith("-00000.warc.gz")
    responses, requests = {}, {}
    with open(path, "rb") as fh:
        for record in ArchiveIterator(fh):
            uri = record.rec_headers.get_header("WARC-Target-URI")
            if record.rec_type == "response":
                responses[uri] = (
                    record.http_headers.get_statuscode(),
                    record.content_stream().read(),
                    record.http_headers,
                )
            elif record.rec_type == "request":
                requests[uri] = record.http_headers
    assert set(responses) == set(requests) == {r.final_url for r in results}
    for r in results:
        status, body, headers = responses[r.final_url]
        assert status == "200" and body == r.body
        assert "newsclf" in requests[r.final_url].get_header("User-Agent")
    gz = local_server.url("/gz")
    assert responses[gz][2].get_header("Content-Encoding") is None
    assert responses[gz][2].get_header("X-Newsclf-Original-Content-Encoding") == "gzip"


def test_iter_warc_yields_html_pages(local_server, tmp_path):
    results = fetched(local_server)
    path = write_all(tmp_path, results).paths[0]
    pages = list(iter_warc(path))
    assert all(isinstance(p, WarcPage) for p in pages)
    assert [p.url for p in pages] == [r.final_url for r in results if r.content_type == "text/html"]
    first = pages[0]
    assert first.status == 200 and first.content_type == "text/html"
    assert "café €".encode() in first.body and first.date.endswith("Z")
    assert first.headers["Content-Length"] == str(len(first.body))
    assert len(list(iter_warc(path, html_only=False))) == len(results)  # the feed too


def test_results_without_an_answer_are_skipped(tmp_path):
    with WarcWriter(tmp_path) as warc:
        assert (
            warc.write(
                FetchResult(
                    url="http://x.example/", error="refused by robots.txt", from_robots_block=True
                )
            )
            is False
        )
    assert warc.paths == []


def test_rollover_at_max_size(local_server, tmp_path):
    results = fetched(local_server, n=4)
    warc = write_all(tmp_path, results, prefix="crawl", max_size=1)
    assert len(warc.paths) == len(results)
    assert [p.name[-14:] for p in warc.paths] == [f"-{i:05d}.warc.gz" for i in range(len(results))]
    pages = [p for path in warc.paths for p in iter_warc(path)]
    assert len(pages) == 5


def test_truncated_body_counts_in_the_warc(tmp_path):
    cut = FetchResult(
        url="http://x.example/big",
        final_url="http://x.example/big",
        status=200,
        headers={"Content-Type": "text/html"},
        body=b"<p>" + b"x" * 100,
        reason="OK",
        truncated="length",
        error="too large: over 103 bytes",
    )
    path = write_all(tmp_path, [cut]).paths[0]
    with open(path, "rb") as fh:
        record = next(r for r in ArchiveIterator(fh) if r.rec_type == "response")
        assert record.rec_headers.get_header("WARC-Truncated") == "length"


@pytest.fixture
def written(local_server, tmp_path) -> tuple[Path, list[FetchResult]]:
    """A WARC of 5 small pages and, last, a big page (random text, so gzip cannot shrink it)."""
    results = fetched(local_server, n=3)
    big = "<html><body><p>" + os.urandom(20_000).hex() + "</p></body></html>"
    local_server.route("/big", html(big))
    results.append(Fetcher(min_interval=0.0).fetch(local_server.url("/big")))
    assert results[-1].ok
    return write_all(tmp_path / "w", results).paths[0], results


def last_response_offset(path: Path) -> int:
    with open(path, "rb") as fh:
        it = ArchiveIterator(fh)
        offsets = [it.get_record_offset() for r in it if r.rec_type == "response"]
    return offsets[-1]


@pytest.mark.parametrize("compressed", [True, False])
def test_truncated_file_mid_record(written, tmp_path, compressed):
    path, results = written
    data = path.read_bytes()
    if not compressed:  # the same records as a plain .warc
        data = gzip.decompress(data)  # every gzip member, in order
        path = tmp_path / "plain.warc"
        path.write_bytes(data)
    assert len(list(iter_warc(path, html_only=False))) == 6
    start = last_response_offset(path)
    cut_file = tmp_path / ("cut.warc.gz" if compressed else "cut.warc")
    cut_file.write_bytes(data[: start + 4000])  # inside the big page's body
    pages = []
    with pytest.raises(InputError) as err:
        for page in iter_warc(cut_file, html_only=False):
            pages.append(page)
    message = str(err.value)
    assert str(cut_file) in message and f"cut off or damaged at byte {start}" in message
    assert [p.url for p in pages] == [r.final_url for r in results[:5]]  # every complete response
    quiet = list(iter_warc(cut_file, strict=False))
    assert [p.url for p in quiet] == [r.final_url for r in results[:4]]  # HTML only: not the feed


def test_truncated_file_inside_a_trailing_record(written, tmp_path):
    path, results = written
    data = path.read_bytes()
    cut_file = tmp_path / "tail.warc.gz"
    cut_file.write_bytes(data[:-25])  # the last gzip member (a request record) loses its end
    with pytest.raises(InputError, match="cut off or damaged at byte"):
        list(iter_warc(cut_file, html_only=False))
    assert len(list(iter_warc(cut_file, strict=False, html_only=False))) == 6


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="cannot open WARC file"):
        list(iter_warc(tmp_path / "nope.warc.gz"))


@pytest.mark.parametrize("compressed", [True, False])
def test_every_cut_point_is_an_error_or_whole_records(tmp_path, compressed):
    """Cut a WARC at many offsets: iter_warc yields only whole records, then InputError (or, quiet,
    stops)."""
    bodies = {}
    with WarcWriter(tmp_path / "w") as warc:
        for i in range(3):
            url = f"http://news.example/{i}"
            bodies[url] = b"<html><p>" + os.urandom(600).hex().encode() + b"</p></html>"
            warc.write(
                FetchResult(
                    url=url,
                    final_url=url,
                    status=200,
                    reason="OK",
                    headers={"Content-Type": "text/html"},
                    body=bodies[url],
                )
            )
    data = warc.paths[0].read_bytes()
    if not compressed:
        data = gzip.decompress(data)
    cut_file = tmp_path / ("cut.warc.gz" if compressed else "cut.warc")
    errors = 0
    for cut in range(0, len(data), 23):
        cut_file.write_bytes(data[:cut])
        pages = []
        try:
            for page in iter_warc(cut_file):
                pages.append(page)
        except InputError as exc:
            errors += 1
            assert "cut off or damaged at byte" in str(exc)
        assert all(p.body == bodies[p.url] for p in pages)
        quiet = list(iter_warc(cut_file, strict=False))
        assert [p.url for p in quiet] == [p.url for p in pages]
    assert errors > 0.9 * (len(data) / 23)  # only cuts at record boundaries read as whole files
    cut_file.write_bytes(data)
    assert [p.body for p in iter_warc(cut_file)] == list(bodies.values())
