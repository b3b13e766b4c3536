"""Feeds, feed lists and sitemaps -> entry URLs to collect.

feedparser reads RSS/Atom, listparser reads OPML; sitemaps (and Google News sitemaps) are small
enough to read with the standard library. A feed is judged by its version and entries, not by
feedparser's `bozo` flag: a slightly broken feed still yields what it can, with a warning.
"""

from __future__ import annotations

import gzip
import io
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime, timezone
from time import struct_time
from typing import Any
from urllib.parse import urljoin

from newsclf.article import canonicalize_url
from newsclf.errors import InputError

MAX_SITEMAP_BYTES = 50 * 1024 * 1024  # the sitemap protocol's own limit for one file, uncompressed
NS = {
    "sm": "http://www.sitemaps.org/schemas/sitemap/0.9",
    "news": "http://www.google.com/schemas/sitemap-news/0.9",
}


class FeedError(InputError):
    """A feed, feed list or sitemap could not be read; the message says why and what to do."""


@dataclass
class FeedEntry:
    """One item of a feed or sitemap: where the article is and how to recognise it again."""

    url: str
    key: str  # guid, or the canonical link: what makes an entry "seen"
    title: str | None = None
    published: str | None = None
    summary: str | None = None


@dataclass
class ParsedFeed:
    """The entries of a feed or sitemap, plus anything odd that was tolerated."""

    entries: list[FeedEntry]
    title: str | None = None
    version: str | None = None
    warnings: list[str] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)  # child sitemaps of a sitemap index


def _iso(parsed: struct_time | None) -> str | None:
    if not parsed:
        return None
    return datetime(*parsed[:6], tzinfo=timezone.utc).isoformat()


def looks_like_html(body: bytes) -> bool:
    """True when a body is an HTML page rather than XML or JSON."""
    head = body[:2048].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or (
        b"<html" in head and b"<rss" not in head and b"<feed" not in head
    )


def discover_feed_links(html: str, base_url: str) -> list[str]:
    """Feed URLs an HTML page announces with <link rel="alternate" type="application/rss+xml">."""
    links = []
    for tag in re.findall(r"<link\b[^>]*>", html, flags=re.IGNORECASE):
        if re.search(r"rel=[\"']?alternate", tag, re.I) and re.search(
            r"type=[\"']?application/(rss|atom)\+xml", tag, re.I
        ):
            href = re.search(r"href=[\"']([^\"']+)", tag, re.I)
            if href:
                links.append(urljoin(base_url, href.group(1)))
    return links


def parse_feed(body: bytes, url: str, content_type: str | None = None) -> ParsedFeed:
    """Entries of an RSS/Atom feed; FeedError for an HTML page or something that is no feed at
    all."""
    import feedparser

    if looks_like_html(body):
        found = discover_feed_links(body.decode("utf-8", "replace"), url)
        hint = (
            f"; the page names these feeds: {', '.join(found)}"
            if found
            else "; give the feed's own URL (often /feed, /rss or /feed.xml)"
        )
        raise FeedError(f"{url}: is an HTML page, not a feed{hint}")
    # Without a content type feedparser flags every feed as bozo; XML's own declaration then decides
    # the charset.
    headers = {"content-location": url, "content-type": content_type or "application/xml"}
    try:
        parsed = feedparser.parse(body, response_headers=headers)
    except Exception as exc:  # feedparser's own decoding can fail on a lying encoding declaration
        raise FeedError(
            f"{url}: the feed could not be read ({type(exc).__name__}: {exc})"
        ) from None
    if not parsed.get("version") and not parsed.entries:
        reason = parsed.get("bozo_exception")
        raise FeedError(f"{url}: not an RSS or Atom feed" + (f" ({reason})" if reason else ""))
    warnings = []
    if parsed.get("bozo"):
        warnings.append(
            f"{url}: the feed is malformed ({parsed.get('bozo_exception')}); read what could be"
            " read"
        )
    entries, seen = [], set()
    for i, item in enumerate(parsed.entries):
        link = item.get("link") or _first_alternate(item)
        if not link:
            warnings.append(f"{url}: entry {i + 1} has no link; skipped")
            continue
        try:
            link = urljoin(url, link.strip())
            key = (item.get("id") or item.get("guid") or "").strip() or canonicalize_url(link)
        except (InputError, ValueError) as exc:
            warnings.append(f"{url}: entry {i + 1} has a broken link ({exc}); skipped")
            continue
        if key in seen:
            continue
        seen.add(key)
        entries.append(
            FeedEntry(
                url=link,
                key=key,
                title=item.get("title"),
                # dict.get: feedparser's own get() maps the keys with a deprecation warning
                published=_iso(
                    dict.get(item, "published_parsed") or dict.get(item, "updated_parsed")
                ),
                summary=item.get("summary"),
            )
        )
    return ParsedFeed(
        entries=entries,
        title=parsed.feed.get("title"),
        version=parsed.get("version") or None,
        warnings=warnings,
    )


def _first_alternate(item: Any) -> str | None:
    for link in item.get("links", []):
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return link["href"]
    return None


def parse_feed_list(body: bytes, url: str = "") -> list[str]:
    """Feed URLs from OPML, or from a plain list (one URL a line, '#' comments); relative ones
    resolved."""
    text = body.decode("utf-8-sig", "replace")
    if text.lstrip().startswith("<"):
        import listparser

        result = listparser.parse(text)
        urls = [urljoin(url, f.url) for f in result.feeds if f.url]
        if not urls and not result.get("version"):
            raise FeedError(f"{url or 'feed list'}: not OPML and not a plain list of URLs")
        return urls
    urls = []
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if not re.match(r"^(https?://|file:|/|\.{0,2}/|[\w.-]+/)", line):
            raise FeedError(f"{url or 'feed list'}:{lineno}: {line!r} is not a URL")
        urls.append(urljoin(url, line) if url else line)
    return urls


def parse_sitemap(body: bytes, url: str) -> ParsedFeed:
    """URLs of a sitemap (with Google News titles and dates where present), or child sitemaps of an
    index."""
    if body[:2] == b"\x1f\x8b":
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(body)) as gz:
                body = gz.read(MAX_SITEMAP_BYTES + 1)
        except (OSError, EOFError) as exc:
            raise FeedError(f"{url}: broken gzip sitemap ({exc})") from None
        if len(body) > MAX_SITEMAP_BYTES:
            raise FeedError(
                f"{url}: sitemap over {MAX_SITEMAP_BYTES} bytes uncompressed; the protocol allows"
                " no more"
            )
    if looks_like_html(body):
        raise FeedError(f"{url}: is an HTML page, not a sitemap")
    if b"<!ENTITY" in body[:4096]:
        raise FeedError(
            f"{url}: sitemap declares XML entities; refused (a sitemap never needs them)"
        )
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise FeedError(f"{url}: not valid XML ({exc})") from None
    tag = root.tag.split("}")[-1]
    if tag == "sitemapindex":
        children = [
            urljoin(url, (loc.text or "").strip()) for loc in root.iter(f"{{{NS['sm']}}}loc")
        ]
        return ParsedFeed(
            entries=[], title=None, version="sitemapindex", sitemaps=[c for c in children if c]
        )
    if tag != "urlset":
        raise FeedError(f"{url}: root element <{tag}> is neither <urlset> nor <sitemapindex>")
    entries, seen = [], set()
    for node in root.findall("sm:url", NS):
        loc = (node.findtext("sm:loc", default="", namespaces=NS) or "").strip()
        if not loc:
            continue
        try:
            link = urljoin(url, loc)
            key = canonicalize_url(link)
        except (InputError, ValueError):
            continue  # a broken <loc> names no page we could fetch
        if key in seen:
            continue
        seen.add(key)
        title = node.findtext("news:news/news:title", default=None, namespaces=NS)
        published = node.findtext(
            "news:news/news:publication_date", default=None, namespaces=NS
        ) or node.findtext("sm:lastmod", default=None, namespaces=NS)
        entries.append(
            FeedEntry(
                url=link,
                key=key,
                title=title.strip() if title else None,
                published=published.strip() if published else None,
            )
        )
    return ParsedFeed(entries=entries, version="sitemap")
