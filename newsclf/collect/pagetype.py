"""Is a fetched page a news article? Home, section, tag, search, video and shop pages are not.

The signals are the ones news crawlers use (news-please's and fundus' page filters, trafilatura's
own metadata): the page's declared type (schema.org JSON-LD, OpenGraph `og:type`), a publication
date and a byline, how much prose it holds and how much of its text is links, and the URL's shape.
A page that declares itself an article is one; otherwise it must show the marks of one. The rules
were written with the bench's page sets in view (bench/extraction prints their precision and recall
and says so).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlparse

ARTICLE_TYPES = {
    "article",
    "newsarticle",
    "reportagenewsarticle",
    "analysisnewsarticle",
    "opinionnewsarticle",
    "reviewnewsarticle",
    "backgroundnewsarticle",
    "blogposting",
    "socialmediaposting",
    "report",
    "scholarlyarticle",
    "techarticle",
    "liveblogposting",
}
OTHER_OG = (
    "website",
    "video",
    "product",
    "profile",
    "music",
    "book",
    "place",
    "business",
    "restaurant",
)
# Path pieces of listing, search, media and shop pages (news-please and fundus filter the same
# kinds).
# (Not "page": "?page=2" and "/page/2" continue multi-page articles as often as they page listings.)
LISTING = re.compile(
    r"(^|/)(tags?|category|categories|section|sections|topics?|search|author|authors|archive|"
    r"list|vod|video|videos|shop|store|products?|cart|company|area|login|register)"
    r"(/|[_\-.]|$)|list[_\-]\d|[?&](s|q|query)=",
    re.IGNORECASE,
)
HOME = re.compile(r"^/?(index\.(html?|php|aspx?))?$", re.IGNORECASE)
MIN_DATED_TEXT = 400  # a dated page with a byline and this much prose is an article (news-please)
MIN_LONG_TEXT = (
    3000  # undated, unsigned prose this long with few links is still an article (essays, blogs)
)


def declared_types(ld_items: list[dict[str, Any]]) -> set[str]:
    """The schema.org types a page's JSON-LD declares, lower-cased."""
    out: set[str] = set()
    for item in ld_items:
        value = item.get("@type") if isinstance(item, dict) else None
        for t in value if isinstance(value, list) else [value]:
            if isinstance(t, str):
                out.add(t.rsplit("/", 1)[-1].lower())
    return out


def link_density(tree: Any) -> float:
    """The share of the page's visible text that sits inside links (0 to 1)."""
    body = tree.find(".//body") if tree is not None else None
    if body is None:
        return 0.0
    total = len(
        "".join(body.xpath(".//text()[not(ancestor::script) and not(ancestor::style)]")).split()
    )
    linked = len("".join(body.xpath(".//a[not(ancestor::a)]//text()")).split())
    return min(1.0, linked / total) if total else 0.0


def page_verdict(
    tree: Any,
    url: str | None,
    body: str,
    ld_items: list[dict[str, Any]],
    og_type: str | None,
    published: str | None,
    authors: list[str],
    require_marks: bool = False,
) -> str | None:
    """None when the page is (or may be) a news article; else why not, in words.

    Pages that show they are something else (a home page, a listing or shop URL, a non-article
    og:type without a date, mostly links) are refused always. With `require_marks` (pages of a
    crawl,
    which may be anything) a page must also show an article's marks: a date with a byline or enough
    text, or long prose; pages from a feed or sitemap are articles by where they came from.
    """
    types = declared_types(ld_items)
    og = (og_type or "").strip().lower()
    if types & ARTICLE_TYPES:
        return None
    path = urlparse(url or "").path
    density = link_density(tree)
    if url and HOME.match(path):
        return "not an article: a site's home page (its URL is the site's root)"
    if url and LISTING.search(path + ("?" + urlparse(url).query if urlparse(url).query else "")):
        if not (og == "article" and published):
            return f"not an article: a listing, media or shop page by its URL ({path})"
    if og.startswith(OTHER_OG) and not published:
        return f"not an article: the page declares og:type {og!r} and gives no publication date"
    if og == "article" and (published or len(body) >= 1000):
        return None
    if density >= 0.5:
        return f"not an article: {density:.0%} of its text is links (a listing or navigation page)"
    if not require_marks:
        return None
    if published and authors and len(body) >= MIN_DATED_TEXT:
        return None
    if published and len(body) >= 1500:
        return None
    if len(body) >= MIN_LONG_TEXT and density < 0.3:
        return None
    marks = [
        m
        for m, ok in (
            ("no article type declared", True),
            ("no publication date", not published),
            ("no byline", not authors),
        )
        if ok
    ]
    return f"not an article: {', '.join(marks)}, {len(body):,} characters of text"
