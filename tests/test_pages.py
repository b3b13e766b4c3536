"""Pagination detection, following pages through a caller's get, and stitching page Articles."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsclf.article import Article, content_hash
from newsclf.collect.extract import extract
from newsclf.collect.pages import (
    MAX_PAGES,
    Pagination,
    collect_pages,
    detect_pagination,
    page_key,
    stitch,
)
from newsclf.errors import InputError

HTML = Path(__file__).parent / "fixtures" / "html"
QUERY = "https://courier.example/city/council-rule"
PATH = "https://wp.example/berita/ojek-blokir"
LOOP = "https://loop.example/story/loop.html"


def fixture(name: str) -> str:
    return (HTML / name).read_text(encoding="utf-8")


def query_site(url: str) -> str | None:
    n = page_key(url)[1] if url.startswith(QUERY) else None
    return fixture(f"query_p{n}.html") if n in (1, 2, 3) else None


@pytest.mark.parametrize(
    "url, expected",
    [
        ("https://a.example/x/story?page=3", ("https://a.example/x/story", 3)),
        ("https://a.example/x/story?id=7&page=2#top", ("https://a.example/x/story?id=7", 2)),
        ("https://a.example/x/story/2", ("https://a.example/x/story", 2)),
        ("https://a.example/x/story/", ("https://a.example/x/story", 1)),
        ("https://a.example/x/story-p2.html", ("https://a.example/x/story.html", 2)),
        ("https://a.example/x/story/page/4/", ("https://a.example/x/story", 4)),
        ("https://a.example/2023/05", ("https://a.example/2023/05", 1)),
    ],
)
def test_page_key(url, expected):
    assert page_key(url) == expected


def test_query_style_pager():
    p = detect_pagination(fixture("query_p1.html"), QUERY)
    assert p == Pagination(
        current=1,
        total=3,
        next_url=QUERY + "?page=2",
        page_urls=[QUERY + "?page=2", QUERY + "?page=3"],
    )
    p3 = detect_pagination(fixture("query_p3.html"), QUERY + "?page=3")
    assert (p3.current, p3.total, p3.next_url) == (3, 3, None)
    assert p3.page_urls == [QUERY + "?page=1", QUERY + "?page=2"]


def test_path_style_pager_with_indonesian_marker_and_selanjutnya():
    p = detect_pagination(fixture("path_p2.html"), PATH + "/2")
    assert (p.current, p.total) == (2, 4)
    assert p.next_url == PATH + "/3"
    assert p.page_urls == [PATH, PATH + "/3", PATH + "/4"]
    first = detect_pagination(fixture("path_p1.html"), PATH)
    assert (first.current, first.total, first.next_url) == (1, 4, PATH + "/2")


@pytest.mark.parametrize(
    "snippet, current, total",
    [
        ("<p>1 dari 3 halaman</p>", 1, 3),
        ("<div>Halaman 2 dari 4</div>", 2, 4),
        ("<span>Page 3 of 5</span>", 3, 5),
        ("<span>Page 7 of 5</span>", None, None),
    ],
)
def test_markers(snippet, current, total):
    p = detect_pagination(
        f"<html><body><article><p>Text.</p>{snippet}</article></body></html>", "https://x.example/a"
    )
    assert (p.current, p.total) == (current, total)


def test_rel_next_link_and_anchor_text():
    html = '<html><head><link rel="next" href="story-p2.html"></head><body><p>x</p></body></html>'
    assert (
        detect_pagination(html, "https://x.example/n/story.html").next_url
        == "https://x.example/n/story-p2.html"
    )
    html = '<html><body><p>x</p><a href="/n/story/2">Halaman berikutnya</a></body></html>'
    assert (
        detect_pagination(html, "https://x.example/n/story").next_url
        == "https://x.example/n/story/2"
    )
    # "Selanjutnya" to another article is not a next page
    html = '<html><body><p>x</p><a href="/n/other-story">Selanjutnya</a></body></html>'
    assert detect_pagination(html, "https://x.example/n/story").next_url is None


@pytest.mark.parametrize(
    "html",
    [
        "",
        "not html at all",
        "<html><body",
        "<a href='http://[bad'>1</a>",
        "<div " + "x" * 200_000 + ">",
    ],
)
def test_bad_html_gives_empty_pagination(html):
    assert detect_pagination(html, "https://x.example/a") == Pagination()


def test_collect_pages_in_order():
    pages = collect_pages(fixture("query_p1.html"), QUERY, query_site)
    assert [u for u, _ in pages] == [QUERY, QUERY + "?page=2", QUERY + "?page=3"]


def test_collect_pages_stops_on_a_loop():
    files = {
        LOOP: "loop.html",
        LOOP.replace("loop.html", "loop-2.html"): "loop-2.html",
        LOOP.replace("loop.html", "loop-3.html"): "loop-3.html",
    }
    calls = []

    def get(url):
        calls.append(url)
        return fixture(files[url]) if url in files else None

    pages = collect_pages(fixture("loop.html"), LOOP, get)
    assert [u.rsplit("/", 1)[1] for u, _ in pages] == ["loop.html", "loop-2.html", "loop-3.html"]
    assert len(calls) == 2


def test_collect_pages_stops_at_max_pages_and_on_missing_pages():
    def endless(url):
        n = page_key(url)[1]
        return (
            f'<html><body><p>page {n}</p><a rel="next" href="?page={n + 1}">Next'
            " page</a></body></html>"
        )

    pages = collect_pages(
        endless("https://e.example/s?page=1"), "https://e.example/s?page=1", endless
    )
    assert len(pages) == MAX_PAGES
    assert collect_pages(fixture("query_p1.html"), QUERY, lambda url: None) == [
        (QUERY, fixture("query_p1.html"))
    ]


def test_stitch_three_pages_drops_repeated_boilerplate():
    pages = [
        extract(html, url)
        for url, html in collect_pages(fixture("query_p1.html"), QUERY, query_site)
    ]
    assert all("morning briefing" in p.text for p in pages)
    article = stitch(pages)
    assert article.pages == 3
    assert "morning briefing" not in article.text
    paras = article.text.split("\n\n")
    assert paras[0].startswith("PORTSIDE") and paras[-1].startswith("Two neighbouring towns")
    assert len(paras) == 6
    assert article.id == pages[0].id and article.title == pages[0].title
    assert (
        article.content_hash == content_hash(article.title, article.text) != pages[0].content_hash
    )
    assert article.metadata["page_urls"] == [QUERY, QUERY + "?page=2", QUERY + "?page=3"]


def test_stitch_edge_cases():
    one = Article(url="https://x.example/a", title="T", text="Only page.")
    assert stitch([one]) is one
    with pytest.raises(InputError):
        stitch([])
