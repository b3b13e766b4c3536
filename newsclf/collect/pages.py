"""Multi-page articles: find a page's pager, follow the pages in order, stitch them into one
Article.

`detect_pagination` reads rel=next links, "Next page" / "Halaman berikutnya" / "Selanjutnya"
anchors,
"1 dari 3 halaman" / "Halaman 2 dari 4" / "Page 1 of 3" markers, and the numbered links of a pager
(`?page=N`, `/N`, `-pN.html`, `/page/N`). `collect_pages` follows them through a caller's `get`,
stopping on loops and at MAX_PAGES. `stitch` joins the extracted pages into one Article.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import parse_qsl, urldefrag, urlencode, urljoin, urlsplit, urlunsplit

from lxml import etree
from lxml import html as lxml_html

from newsclf.article import Article, normalize_text
from newsclf.collect.budget import html_budget
from newsclf.errors import InputError

MAX_PAGES = 20
MAX_HTML = 5_000_000  # characters of a page looked at for its pager

PAGE_PARAMS = ("page", "p", "pg", "paged", "halaman", "hal", "page_no", "pagenum", "pagina")
NEXT_TEXT = re.compile(
    r"^(?:next|next page|next »|continue reading on next page|halaman berikutnya|berikutnya|"
    r"halaman selanjutnya|selanjutnya|lanjut|lanjutkan|hal\. berikutnya)\W*$",
    re.I,
)
MARKERS = (
    re.compile(r"\b(\d{1,3})\s+dari\s+(\d{1,3})\s+halaman\b", re.I),
    re.compile(r"\bhalaman\s+(\d{1,3})\s+dari\s+(\d{1,3})\b", re.I),
    re.compile(r"\bhal(?:aman|\.)?\s+(\d{1,3})\s*/\s*(\d{1,3})\b", re.I),
    re.compile(r"\bpage\s+(\d{1,3})\s+of\s+(\d{1,3})\b", re.I),
)
MARKER_NODES = (
    "//body//text()[string-length() < 300][contains(., 'dari') or contains(., ' of ') or "
    "contains(., 'alaman') or contains(., 'al.') or contains(., 'Hal ') or contains(., 'hal ')]"
    "[not(ancestor::script or ancestor::style)]"
)
_BODY_TEXT = etree.XPath("//body//text()", smart_strings=False)
_DIGIT = re.compile(r"\d")


def _link_nodes(tree, any_link: bool) -> list:
    """`//base[@href] | //link[@href][contains(@rel, 'next')] | //a[@href]` in document order;
    without `any_link` only the <a>s that have a rel."""
    # one walk with attribute tests in Python: the XPath's predicates cost twice as much
    nodes = []
    for el in tree.getroottree().iter("base", "link", "a"):
        if el.get("href") is None:
            continue
        tag = el.tag
        if (
            tag == "base"
            or (tag == "link" and "next" in (el.get("rel") or ""))
            or (tag == "a" and (any_link or el.get("rel") is not None))
        ):
            nodes.append(el)
    return nodes


def _may_have_marker(tree) -> bool:
    """False when no text node of the body can hold a pager marker (MARKER_NODES finds none)."""
    # MARKER_NODES' predicates cost libxml2 a string copy per text node per test (most of this
    # module's time); the same tests on plain strings in Python rule out nearly every page.
    for text in _BODY_TEXT(tree):
        if (
            len(text) < 300
            and (  # MARKER_NODES' contains() tests, spelled out for speed
                "dari" in text
                or " of " in text
                or "alaman" in text
                or "al." in text
                or "Hal " in text
                or "hal " in text
            )
            and _DIGIT.search(text)  # every marker holds a number
        ):
            text = " ".join(text.split())
            if any(pattern.search(text) for pattern in MARKERS):
                return True
    return False


PATH_PAGE = (
    re.compile(r"^(?P<stem>.+?)/page/(?P<n>\d{1,3})/?$"),
    re.compile(
        r"^(?P<stem>.+?)[-_](?:p|page|hal|halaman)(?P<n>\d{1,3})(?P<ext>\.[a-z]{2,5})?$", re.I
    ),
    re.compile(r"^(?P<stem>.+/[^/]*[^\d/][^/]*)/(?P<n>\d{1,3})/?$"),
)


@dataclass
class Pagination:
    """What a page says about the pages of its article."""

    current: int | None = None
    total: int | None = None
    next_url: str | None = None
    page_urls: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "current": self.current,
            "total": self.total,
            "next_url": self.next_url,
            "page_urls": list(self.page_urls),
        }


def page_key(url: str) -> tuple[str, int]:
    """(the article's URL without its page number, the page number; 1 when the URL names none)."""
    url = urldefrag(url)[0]
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    number = None
    kept = []
    for key, value in query:
        if key.lower() in PAGE_PARAMS and value.isdigit() and len(value) <= 3:
            number = int(value)
        else:
            kept.append((key, value))
    path = parts.path
    if number is None:
        for pattern in PATH_PAGE:
            m = pattern.match(path)
            if m:
                number = int(m.group("n"))
                path = m.group("stem") + (m.groupdict().get("ext") or "")
                break
    path = path.rstrip("/") or "/"
    stem = urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, urlencode(kept), ""))
    return stem, number if number is not None else 1


def _parse(html: str):
    if not html or not isinstance(html, str) or html_budget(html[:MAX_HTML]) is not None:
        return None  # a page over the parse budget has no pager here; extraction reports it
    try:
        return lxml_html.document_fromstring(html[:MAX_HTML])
    # lxml raises several types on hopeless input; a page without a tree has no pager
    except Exception:
        return None


def _origin(folder: str) -> str | None:
    """'https://host/' of an absolute folder URL; None when it names no host."""
    scheme, sep, rest = folder.partition("://")
    host = rest.split("/", 1)[0]
    return f"{scheme}://{host}/" if sep and host and "/" in rest else None


def _other_site(href: str, origin: str | None) -> bool:
    """True when `href` is an http(s) URL that resolves, whatever the base, outside `origin`."""
    # Exact, not a guess: such an href keeps its scheme and host through urljoin and urldefrag
    # unless it has no host ("https:///x" takes the base's) or holds tabs or newlines
    # (urlsplit removes them, which could join a host); those go the long way.
    href = href.strip()
    if origin is None or not href.startswith(("http://", "https://")):
        return False
    rest = href.split("//", 1)[1]
    if not rest or rest[0] in "/?#" or any(c in href for c in "\t\r\n"):
        return False
    return not href.startswith(origin)


def _text_of(el) -> str:
    try:
        return " ".join(el.text_content().split())
    except Exception:
        return ""


def detect_pagination(html: str, url: str) -> Pagination:
    """Read the pager of one page. Unknown parts stay None / empty; never raises on bad HTML."""
    tree = _parse(html)
    if tree is None:
        return Pagination()
    return pagination_of_tree(tree, url)


def pagination_of_tree(tree, url: str) -> Pagination:
    """detect_pagination on a page already parsed with lxml."""
    result = Pagination()
    # one walk finds the <base> and the links (without a URL no link is under the article's
    # folder: only rel=next ones can count)
    nodes = _link_nodes(tree, any_link=bool(url))
    base = url or ""
    for b in nodes:
        if b.tag == "base":
            base = urljoin(base, b.get("href", "").strip())
            break
    here_stem, here_n = page_key(url) if url else ("", 1)

    def absolute(href: str | None) -> str | None:
        if not href:
            return None
        href = href.strip()
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:")):
            return None
        try:
            return urldefrag(urljoin(base, href))[0]
        except ValueError:
            return None

    # 1. markers in the visible text: "2 dari 3 halaman", "Halaman 2 dari 4", "Page 2 of 3"
    for node in tree.xpath(MARKER_NODES) if _may_have_marker(tree) else ():
        text = " ".join(str(node).split())
        for pattern in MARKERS:
            m = pattern.search(text)
            if m:
                cur, tot = int(m.group(1)), int(m.group(2))
                if 1 <= cur <= tot <= 500:
                    result.current, result.total = cur, tot
                    break
        if result.current:
            break

    # 2. rel=next, next-page anchors and numbered pager links to the same article
    # (only links under the article's own folder can be its pages; checking that first keeps this
    # fast)
    folder = here_stem.split("?", 1)[0].rsplit("/", 1)[0] + "/" if url else None
    origin = _origin(folder) if folder else None
    numbered: dict[int, str] = {}
    rel_next: list[str] = []
    text_next: list[str] = []
    for a in nodes:
        if a.tag == "base":
            continue
        rel = (a.get("rel") or "").lower().split()
        if "next" in rel:
            target = absolute(a.get("href"))
            if target:
                rel_next.append(target)
            continue
        if folder is None or a.tag != "a":
            continue
        if _other_site(a.get("href") or "", origin):
            continue  # urljoin costs more than all else here, and most links lead elsewhere
        target = absolute(a.get("href"))
        if not target or not target.startswith(folder):
            continue
        stem, n = page_key(target)
        if stem != here_stem:
            continue
        label = _text_of(a)
        if NEXT_TEXT.match(label):
            text_next.append(target)
        if n != here_n and (label.isdigit() or n > 1):
            if not label.isdigit() or int(label) == n:
                numbered.setdefault(n, target)
    candidates = rel_next + text_next
    if candidates:
        result.next_url = candidates[0]

    if result.current is None and (numbered or result.next_url):
        result.current = here_n
    if numbered:
        numbered.pop(result.current or here_n, None)
        result.page_urls = [numbered[n] for n in sorted(numbered)]
        if result.total is None:
            result.total = max(list(numbered) + [result.current or here_n])
    if result.next_url is None and result.current is not None and result.current + 1 in numbered:
        result.next_url = numbered[result.current + 1]
    return result


def collect_pages(
    first_html: str, first_url: str, get: Callable[[str], str | None]
) -> list[tuple[str, str]]:
    """Follow an article's pages from its first page: [(url, html)] in order, at most MAX_PAGES.

    Stops when a page has no next page, when `get` returns None, or when a next link leads to a page
    already collected (a loop).
    """
    pages = [(first_url, first_html)]
    seen = {_seen_key(first_url)}
    url, html = first_url, first_html
    while len(pages) < MAX_PAGES:
        pagination = detect_pagination(html, url)
        nxt = pagination.next_url
        if not nxt:
            break
        key = _seen_key(nxt)
        if key in seen:
            break
        seen.add(key)
        html = get(nxt)
        if not html:
            break
        url = nxt
        pages.append((url, html))
    return pages


def _seen_key(url: str) -> tuple[str, int]:
    return page_key(url)


def stitch(pages: list[Article]) -> Article:
    """One Article from its pages in order: page 1's metadata, the texts joined without repeated
    boilerplate."""
    if not pages:
        raise InputError("stitch needs at least one page")
    first = pages[0]
    if len(pages) == 1:
        return first
    per_page = [[p for p in re.split(r"\n\s*\n", page.text) if p.strip()] for page in pages]
    # Paragraphs repeated on every page are the site's, not the article's.
    common = set.intersection(*({normalize_text(p) for p in paras} for paras in per_page))
    title = normalize_text(first.title or "")
    kept: list[str] = []
    seen: set[str] = set()
    for i, paras in enumerate(per_page):
        for para in paras:
            norm = normalize_text(para)
            if norm in common or norm in seen:
                continue
            if i > 0 and title and norm == title:
                continue
            seen.add(norm)
            kept.append(para.strip())
    data = first.to_dict()
    data["text"] = "\n\n".join(kept)
    data["pages"] = len(pages)
    data["content_hash"] = ""
    metadata = dict(first.metadata)
    metadata["page_urls"] = [p.url for p in pages if p.url]
    data["metadata"] = metadata
    return Article(**data)
