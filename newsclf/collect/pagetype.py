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
    r"""
    (^|/)(tags?|category|categories|section|sections|topics?|search|author|authors|archive
         |list|vod|video|videos|shop|store|products?|cart|company|area|login|register)
    (/|[_\-.]|$)           # the whole piece, or its start: /tag/, /video_123, /search.html
    | list[_\-]\d          # numbered listings: list_2, list-3
    | [?&](s|q|query)=     # a search's query string
    """,
    re.IGNORECASE | re.VERBOSE,
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


RAW_TEXT_TAGS = frozenset(("script", "style"))


def link_density(tree: Any) -> float:
    """The share of the page's visible text that sits inside links (0 to 1)."""
    body = tree.find(".//body") if tree is not None else None
    if body is None:
        return 0.0
    texts, linked = _body_texts(body)
    total = len("".join(texts).split())
    linked_words = len("".join(linked).split())
    return min(1.0, linked_words / total) if total else 0.0


def _body_texts(body: Any) -> tuple[list[str], list[str]]:
    """The text nodes of `body` outside <script>/<style>, and those inside links, in order.

    The same node lists as the XPaths `.//text()[not(ancestor::script) and not(ancestor::style)]`
    and `.//a[not(ancestor::a)]//text()`, in one walk: libxml2 evaluated those predicates node by
    node at several times the cost.
    """
    from lxml import etree

    texts: list[str] = []
    linked: list[str] = []
    raw = links = 0  # how many <script>/<style> and <a> elements we are inside
    for event, el in etree.iterwalk(body, events=("start", "end", "comment", "pi")):
        tag = el.tag
        if event == "start":
            raw += tag in RAW_TEXT_TAGS
            links += tag == "a"
            text = el.text
        else:
            if event == "end":
                raw -= tag in RAW_TEXT_TAGS
                links -= tag == "a"
                if el is body:
                    break  # the body's tail lies outside it
            # a comment's or PI's own text is no text node; a tail is the parent's child,
            # counted by where the walk is once past `el`
            text = el.tail
        if text:
            if not raw:
                texts.append(text)
            if links:
                linked.append(text)
    return texts, linked


def _url_verdict(url: str | None, og: str, published: str | None) -> str | None:
    """Why the URL shows the page is no article (a site's root, a listing or shop path), or None."""
    if not url:
        return None
    parts = urlparse(url)
    path = parts.path
    if HOME.match(path):
        return "not an article: a site's home page (its URL is the site's root)"
    if LISTING.search(path + ("?" + parts.query if parts.query else "")):
        if not (og == "article" and published):
            return f"not an article: a listing, media or shop page by its URL ({path})"
    return None


def verdict_before_body(
    url: str | None, ld_items: list[dict[str, Any]], og_type: str | None
) -> str | None:
    """page_verdict's refusal when the URL decides it whatever the body holds, else None."""
    # A crawl is mostly home, listing and shop pages; refusing them here spares extracting a
    # body nobody reads. A page that declares an article type, or og:type article (whose
    # listing URL is forgiven when it gives a date), goes the whole way.
    og = (og_type or "").strip().lower()
    if og == "article" or declared_types(ld_items) & ARTICLE_TYPES:
        return None
    return _url_verdict(url, og, None)


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
    by_url = _url_verdict(url, og, published)
    if by_url:
        return by_url
    if og.startswith(OTHER_OG) and not published:
        return f"not an article: the page declares og:type {og!r} and gives no publication date"
    if og == "article" and (published or len(body) >= 1000):
        return None
    density = link_density(tree)  # only now: it walks the whole page
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
