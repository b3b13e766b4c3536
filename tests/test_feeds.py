from __future__ import annotations

import gzip

import pytest

from newsclf.collect.feeds import FeedError, parse_feed, parse_feed_list, parse_sitemap

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Demo</title>
<item><title>One</title><link>a/one.html</link><guid isPermaLink="false">g1</guid>
<pubDate>Fri, 12 May 2023 07:45:00 +0700</pubDate></item>
<item><title>One again</title><link>a/one.html?utm_source=x</link><guid \
isPermaLink="false">g1</guid></item>
<item><title>Two</title><link>https://news.example/two?utm_campaign=z#top</link></item>
</channel></rss>"""


def test_rss_entries_are_absolute_and_deduplicated_by_guid_or_link():
    feed = parse_feed(RSS, "https://news.example/feed.xml")
    assert feed.version == "rss20" and feed.warnings == []
    assert [(e.url, e.key) for e in feed.entries] == [
        ("https://news.example/a/one.html", "g1"),
        ("https://news.example/two?utm_campaign=z#top", "https://news.example/two"),
    ]
    assert feed.entries[0].published == "2023-05-12T00:45:00+00:00"


def test_broken_feed_still_yields_its_entries_with_a_warning():
    broken = RSS.replace(
        b"</channel></rss>", b"<item><title>Three & four</title><link>c.html</link></item>"
    )
    feed = parse_feed(broken, "https://news.example/feed.xml")
    assert len(feed.entries) >= 2 and feed.warnings and "malformed" in feed.warnings[0]


def test_atom_feed():
    atom = b"""<?xml version="1.0" encoding="utf-8"?><feed \
xmlns="http://www.w3.org/2005/Atom"><title>A</title>
    <entry><id>tag:x,2023:1</id><title>E</title><link rel="alternate" href="https://x.example/e"/>
    <updated>2023-05-12T07:45:00+07:00</updated></entry></feed>"""
    feed = parse_feed(atom, "https://x.example/atom")
    assert feed.version.startswith("atom") and feed.entries[0].key == "tag:x,2023:1"


@pytest.mark.parametrize(
    "body, message",
    [
        (
            (
                b'<!DOCTYPE html><html><head><link rel="alternate" type="application/rss+xml"'
                b' href="/rss"></head></html>'
            ),
            "is an HTML page, not a feed; the page names these feeds: https://news.example/rss",
        ),
        (
            b"<html><body>hello</body></html>",
            "is an HTML page, not a feed; give the feed's own URL",
        ),
        (b"\x00\x01 binary junk", "not an RSS or Atom feed"),
    ],
)
def test_html_or_junk_given_as_a_feed_is_a_clear_error(body, message):
    with pytest.raises(FeedError, match=message):
        parse_feed(body, "https://news.example/page")


def test_feed_lists_opml_and_plain():
    opml = b"""<?xml version="1.0"?><opml version="2.0"><head/><body>
      <outline type="rss" text="A" xmlUrl="a/feed.xml"/><outline text="group">
      <outline type="rss" text="B" xmlUrl="https://b.example/rss"/></outline></body></opml>"""
    assert parse_feed_list(opml, "https://h.example/feeds.opml") == [
        "https://h.example/a/feed.xml",
        "https://b.example/rss",
    ]
    plain = b"# my feeds\nhttps://a.example/rss\n\nhttps://b.example/atom  # comment\n"
    assert parse_feed_list(plain) == ["https://a.example/rss", "https://b.example/atom"]
    with pytest.raises(FeedError, match="feed list:2: 'not a url at all' is not a URL"):
        parse_feed_list(b"https://a.example/rss\nnot a url at all\n")


def test_google_news_sitemap_and_index_and_gzip():
    news = b"""<?xml version="1.0" encoding="UTF-8"?>
    <urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" \
xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
      \
<url><loc>https://n.example/a</loc><news:news><news:publication><news:name>N</news:name><news:language>id</news:language>
      \
</news:publication><news:publication_date>2023-05-12T07:45:00+07:00</news:publication_date><news:title>Judul</news:title>
      </news:news></url>
      <url><loc>https://n.example/b?utm_source=x</loc><lastmod>2023-05-13</lastmod></url>
      <url><loc>https://n.example/b</loc></url>
    </urlset>"""
    result = parse_sitemap(gzip.compress(news), "https://n.example/sitemap.xml.gz")
    assert [(e.url, e.title, e.published) for e in result.entries] == [
        ("https://n.example/a", "Judul", "2023-05-12T07:45:00+07:00"),
        ("https://n.example/b?utm_source=x", None, "2023-05-13"),
    ]
    index = b"""<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
      \
<sitemap><loc>/s1.xml</loc></sitemap><sitemap><loc>https://n.example/s2.xml</loc></sitemap></sitemapindex>"""
    assert parse_sitemap(index, "https://n.example/index.xml").sitemaps == [
        "https://n.example/s1.xml",
        "https://n.example/s2.xml",
    ]


@pytest.mark.parametrize(
    "body, message",
    [
        (b"<urlset", "not valid XML"),
        (
            b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'aaaa'>]><urlset>&a;</urlset>",
            "declares XML entities",
        ),
        (b"<rss version='2.0'></rss>", "neither <urlset> nor <sitemapindex>"),
        (b"\x1f\x8b\x08\x00garbage", "broken gzip sitemap"),
    ],
)
def test_bad_sitemaps_are_clear_errors(body, message):
    with pytest.raises(FeedError, match=message):
        parse_sitemap(body, "https://n.example/s.xml")


def test_a_broken_link_skips_the_entry_with_a_warning():
    # Found by bench/fuzz: a port that is not a number made canonicalize_url raise ValueError.
    body = RSS.replace(
        b'a/one.html</link><guid isPermaLink="false">g1</guid>', b"https://x.exa:ple/one</link>"
    )
    feed = parse_feed(body, "https://news.example/feed.xml")
    assert [e.url for e in feed.entries] == [
        "https://news.example/a/one.html?utm_source=x",
        "https://news.example/two?utm_campaign=z#top",
    ]
    assert any("entry 1 has a broken link" in w for w in feed.warnings)
