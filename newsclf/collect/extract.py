"""HTML -> Article: the main text, title, authors, date, language, canonical URL and outlet of a
news page.

The body comes from trafilatura (in its precision mode, given the parsed tree, never a URL, so
extraction never touches the network) after three repairs of the tree: bare-text paragraphs next to
<p>s are wrapped as paragraphs, hover cards after links are dropped, and embedded posts are lifted
out of widget boxes. Our own line rules then clean it: headline repeats, "Baca juga:" / "Read
also:" lines, pager text, share bars, comment links, related-story lines, wire credits, reading
times, newsletter and other reader pitches, bylines and date lines are not body text. Metadata
comes from meta tags and JSON-LD first, then from the visible byline and date lines. Bytes are
decoded by the given encoding, a BOM, the page's declared charset, or detection, in that order.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime
from typing import Any, Iterable
from urllib.parse import urljoin, urlsplit

from newsclf.article import Article
from newsclf.collect.budget import html_budget
from newsclf.collect.dates import parse_date
from newsclf.collect.encoding import decode
from newsclf.collect.pages import pagination_of_tree
from newsclf.collect.pagetype import page_verdict
from newsclf.errors import InputError
from newsclf.language import detect_language

MAX_BYTES = 5_000_000  # larger pages are cut here (noted in metadata["truncated_at"])
MIN_TEXT_CHARS = 25  # below this, a page holds no article text

logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
logging.getLogger("htmldate").setLevel(logging.CRITICAL)


class ExtractionError(InputError):
    """A page holds no article text (empty, not HTML, or only navigation); `url` names the page,
    `reason` says why."""

    def __init__(self, reason: str, url: str | None = None):
        super().__init__(f"{url}: {reason}" if url else reason)
        self.reason = reason
        self.url = url

    def __reduce__(self) -> tuple[Any, tuple[str, str | None]]:
        return ExtractionError, (self.reason, self.url)  # batch workers send it between processes


class NotAnArticle(ExtractionError):
    """The page holds text, but it is not a news article (a home, section, tag, video or shop
    page)."""

    def __reduce__(self) -> tuple[Any, tuple[str, str | None]]:
        return NotAnArticle, (self.reason, self.url)


# --- decoding -------------------------------------------------------------------------------------


def decode_html(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """Decode page bytes: (text, encoding used), by the shared decoder the fetcher uses too."""
    try:
        return decode(data, encoding, strict_declared=True)
    except InputError as exc:
        raise ExtractionError(str(exc)) from None


# --- parsing helpers -----------------------------------------------------------------------------


def _load_tree(text: str):
    from trafilatura.utils import load_html

    try:
        return load_html(text)
    except Exception:  # lxml/trafilatura may raise on pathological input; treated as "no tree"
        return None


def _norm(s: str) -> str:
    return " ".join(re.findall(r"\w+", s.lower()))


def _clean_space(s: str | None) -> str:
    return " ".join((s or "").split())


def _meta(tree, *names: str) -> str | None:
    for name in names:
        for attr in ("property", "name", "itemprop"):
            for value in tree.xpath(f"//meta[@{attr}=$n]/@content", n=name):
                value = _clean_space(value)
                if value:
                    return value
    return None


def _json_ld(tree) -> list[dict]:
    """Every JSON-LD object on the page, @graph items flattened; bad JSON is skipped."""
    found: list[dict] = []
    for script in tree.xpath("//script[@type='application/ld+json']")[:20]:
        raw = (script.text or "").strip()
        if not raw or len(raw) > 500_000:
            continue
        try:
            data = json.loads(raw)
        except ValueError:
            try:
                data = json.loads(re.sub(r"[\x00-\x1f]", " ", raw))
            except ValueError:
                continue
        stack = data if isinstance(data, list) else [data]
        while stack:
            item = stack.pop(0)
            if isinstance(item, dict):
                found.append(item)
                graph = item.get("@graph")
                if isinstance(graph, list):
                    stack.extend(graph)
            elif isinstance(item, list):
                stack.extend(item)
    return found


def _ld_article(items: list[dict]) -> dict:
    def types(item: dict) -> list[str]:
        t = item.get("@type")
        return [str(x) for x in t] if isinstance(t, list) else [str(t or "")]

    for pattern in (r"Article|BlogPosting|LiveBlogPosting|Report", r"WebPage"):
        for item in items:
            if any(re.search(pattern, t) for t in types(item)):
                return item
    return {}


def _names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return _names(value.get("name"))
    if isinstance(value, list):
        return [n for v in value for n in _names(v)]
    return []


# --- authors -------------------------------------------------------------------------------------

BYLINE_PREFIX = re.compile(
    r"^\s*(?:(?:reporter|reporters|penulis|editor|editors|redaktur|pewarta|kontributor|author|authors|"
    r"written by|words by|laporan|teks|wartawan)\s*[:：\-–]\s*|(?:by|oleh|reported by|ditulis"
    r" oleh)\s*:?\s+)",
    re.I,
)
AUTHOR_SPLIT = re.compile(r"\s*(?:,|;|&|\band\b|\bdan\b|\s\|\s|/)\s*", re.I)
NOT_A_NAME = re.compile(r"https?://|www\.|@|\d|^(?:admin|staff|redaksi|editor|team|tim)$", re.I)


def clean_authors(values: Iterable[str]) -> list[str]:
    """Names from byline strings: prefixes ("By", "Oleh", "Reporter :") off, split on
    and/dan/commas."""
    out: list[str] = []
    for value in values:
        value = _clean_space(value)
        if not value or NOT_A_NAME.search(value) and "://" in value:
            continue
        # "Reporter : A | Editor : B" keeps both names
        for part in re.split(r"\s*\|\s*|\s{2,}|\n", value):
            part = BYLINE_PREFIX.sub("", part).strip(" :-–—,")
            part = re.sub(r"^(?:by|oleh)\s+", "", part, flags=re.I)
            # cut off a date or role glued to the name ("Rina Mahendra, Jumat 12 Mei 2023")
            part = re.split(r"\s+[-–—]\s+|\s+\d", part)[0]
            for name in AUTHOR_SPLIT.split(part):
                name = name.strip(" .:-–—")
                if not name or NOT_A_NAME.search(name) or len(name) > 60 or len(name.split()) > 5:
                    continue
                if not re.search(r"[^\W\d_]", name):
                    continue
                if name.lower() not in (n.lower() for n in out):
                    out.append(name)
    return out


def _authors(tree, ld: dict) -> list[str]:
    candidates: list[str] = []
    names = _names(ld.get("author")) if ld else []
    if names:
        candidates = names
    if not candidates:
        for name in (
            "author",
            "article:author",
            "dc.creator",
            "parsely-author",
            "sailthru.author",
            "byl",
        ):
            value = _meta(tree, name)
            if value and "://" not in value:
                candidates = [value]
                break
    if not candidates:
        for el in tree.xpath(
            "//*[@rel='author' or contains(concat(' ', normalize-space(@class), ' '), ' author ')"
            " or contains(@class, 'byline') or contains(@class, 'reporter') or contains(@class,"
            " 'penulis') or @itemprop='author']"
        )[:5]:
            text = _clean_space(el.text_content())
            if text and len(text) < 150:
                candidates.append(text)
                break
    if not candidates:
        for text in _short_lines(tree):
            if BYLINE_PREFIX.match(text) and len(text) < 120:
                candidates.append(text)
                break
    return clean_authors(candidates)


def _short_lines(tree, limit: int = 400) -> Iterable[str]:
    """Short visible text blocks in document order (bylines, date lines)."""
    n = 0
    for el in tree.iter():
        if not isinstance(el.tag, str) or el.tag in (
            "script",
            "style",
            "noscript",
            "template",
            "head",
            "title",
        ):
            continue
        for chunk in (el.text, el.tail):
            text = _clean_space(chunk)
            if 4 <= len(text) <= 160:
                yield text
                n += 1
                if n >= limit:
                    return


# --- dates ---------------------------------------------------------------------------------------

DATE_META = (
    "article:published_time",
    "og:published_time",
    "published_time",
    "datePublished",
    "pubdate",
    "publishdate",
    "publish-date",
    "publish_date",
    "date",
    "dc.date",
    "dc.date.issued",
    "dcterms.created",
    "sailthru.date",
    "parsely-pub-date",
    "content_PublishedDate",
    "article.published",
)


def _iso(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    return dt.isoformat()


def _published(tree, ld: dict) -> str | None:
    for value in [ld.get("datePublished"), ld.get("dateCreated")] if ld else []:
        if isinstance(value, str):
            dt = parse_date(value)
            if dt:
                return _iso(dt)
    value = _meta(tree, *DATE_META)
    if value:
        dt = parse_date(value)
        if dt:
            return _iso(dt)
    for el in tree.xpath("//time[@datetime]")[:3]:
        dt = parse_date(el.get("datetime", ""))
        if dt:
            return _iso(dt)
    # visible date lines: elements classed as dates first, then any short line that is only a date
    for el in tree.xpath(
        "//*[self::time or contains(@class, 'date') or contains(@class, 'time') or "
        "contains(@class, 'tanggal') or contains(@class, 'publish')]"
    )[:20]:
        text = _clean_space(el.text_content())
        if 6 <= len(text) <= 120:
            dt = parse_date(text) or parse_date(BYLINE_PREFIX.sub("", text))
            if dt:
                return _iso(dt)
    for text in _short_lines(tree):
        if re.search(r"\d{4}", text):
            dt = parse_date(text)
            if dt:
                return _iso(dt)
    return None


# --- language ------------------------------------------------------------------------------------

LANG_ATTR = re.compile(r"^([a-z]{2,3})(?:[-_][a-z0-9]{1,8})*$", re.I)


def _lang(tree, text: str) -> str | None:
    for value in tree.xpath("/html/@lang | //html/@lang | /html/@xml:lang")[:1] + [
        _meta(tree, "og:locale", "content-language", "language") or ""
    ]:
        m = LANG_ATTR.match(_clean_space(str(value)).replace("_", "-"))
        if m:
            code = m.group(1).lower()
            return {"in": "id", "iw": "he", "ji": "yi"}.get(code, code)
    return detect_language(text)


# --- body text -----------------------------------------------------------------------------------

BOILERPLATE = re.compile(
    r"""^\s*(?:
    (?:baca\ juga|baca|lihat\ juga|simak\ juga|simak|tonton\ juga|berita\ terkait|artikel\ terkait|
       read\ also|also\ read|read\ more|see\ more|see\ also|related|related\ stories|
       related\ articles|
       more|also|read\ next|recommended|watch|don'?t\ miss|most\ read|trending|
       advertisement)\s*[:：»>|-].*
  | also\ on\ [\w.]+\s.*
  | (?:baca\ juga|read\ also|berita\ terkait|related\ stories|artikel\ terkait|don'?t\ miss|
       advertisement|
       iklan|sponsored|comments?|\d+\ comments?|comments?\ \(\d+\)|beri\ komentar|komentar|
       tulis\ komentar|
       \d+\ komentar|share\ this(?:\ article|\ story)?|share|bagikan|tweet|print|email|
       scroll\ to\ continue)
    \s*\W*
  | (?:share|bagikan|bagikan\ artikel|share\ this)\s*:?\s*(?:(?:facebook|twitter|x|whatsapp|
       telegram|line|
       linkedin|email|copy\ link|pinterest|reddit)[\s,|]*)+
  | \d{1,3}\s+dari\s+\d{1,3}\s+halaman\W*
  | halaman\s+\d{1,3}\s+(?:dari|/)\s+\d{1,3}\W*
  | page\s+\d{1,3}\s+of\s+\d{1,3}\W*
  | (?:halaman|hal\.?)\s+(?:berikutnya|sebelumnya|selanjutnya)\W*
  | (?:next|previous|prev)\s+page\W*
  | selanjutnya|sebelumnya
  | (?:(?:\d{1,3}|next|prev|previous|next\ page|previous\ page|halaman\ berikutnya|
       halaman\ sebelumnya|
       berikutnya|sebelumnya|selanjutnya|[«»‹›<>]|\.\.\.)\s*){2,}
  | like\ this\ story\?.*
  | (?:sign\ up|subscribe)\ .{0,80}newsletter.*
  | .{0,200}\bsign[\ -]?up\b[^.!?]{0,80}\bnewsletters?\b.{0,80}
  | follow\ .{1,60}\ on\ (?:facebook|twitter|instagram).*
  | (?:updated|diperbarui)\ (?:at|on|pada)\ .{0,40}
  | (?:filed\ under|tags?|topik|tag)\s*:.*
  | [\w\s.,'’&-]{0,250}\ contributed\ (?:to\ this\ report|to\ this\ story|
       reporting)(?:\ from\ [\w\s.,-]+)?\.?
  | \((?:additional\ )?(?:reporting|writing|editing|compiled)\ by\ [^()]{2,300}\)\.?
  | (?:additional\ )?reporting\ by\ [^.;]{2,150}[;,]\ (?:writing|editing)\ by\ .{2,150}
  | (?:(?:estimated\ )?(?:reading|read)\ time|tempo\ de\ leitura|tiempo\ de\ lectura|
       temps\ de\ lecture|lesezeit|
       leestijd|waktu\ baca)\s*:?\s*(?:about\ |approx\.?\ |less\ than\ |
       <\s*)?\d{1,3}\s*[^\W\d]{0,10}\.?
  | (?:\d{1,3}|one|two|three|four|five)\s*-?\s*min(?:ute)?s?\.?\ read
  | (?:click|tap)\ here\ (?:to|for)\ .{0,120}
  | .{0,160}[.!?]\ (?:click|tap)\ here\ (?:to|for)\ .{0,60}
  | if\ you\ (?:enjoyed|liked|appreciated)\ this\ (?:article|story|post|piece)\b.{0,380}
  | tell\ us\ what\ you\ think.{0,40}
  | subscribe\ to\ .{1,60}\ (?:on\ youtube|youtube\ channel)\b.{0,100}
  | follow\ .{1,60}\ (?:full\ )?coverage\ (?:of\ .{1,80}\ )?at\ \S+
  | \S+@\S+\.\w+
  | (?:https?://|www\.)\S+
  | \d{4}-\d\d-\d\dT[\d:.+Z-]+
  | .{10,200}\ \[[A-Z]{3,12}\]\s*\|?
  | (?:copyright|©|\(c\))\s.{0,120}
)\s*$""",
    re.I | re.X,
)


# quote-sharing widgets glue their label onto the quoted sentence ("... online.Click To Tweet")
WIDGET_SUFFIX = re.compile(r"\s*click\s+to\s+tweet\s*$", re.I)


def _title_keys(tree, title: str | None) -> set[str]:
    keys = set()
    values = list(tree.xpath("//title/text()")[:1]) + list(tree.xpath("//h1")[:2])
    values += [_meta(tree, "og:title") or "", _meta(tree, "twitter:title") or "", title or ""]
    for value in values:
        text = value if isinstance(value, str) else value.text_content()
        key = _norm(text)
        if len(key) > 10:
            keys.add(key)
    return keys


def _is_title_line(key: str, title_keys: set[str]) -> bool:
    if not key or len(key.split()) > 30:
        return False
    return any(key == t or (t.startswith(key) and len(key) > 0.5 * len(t)) for t in title_keys)


def _is_byline_or_date(line: str) -> bool:
    if len(line) > 160:
        return False
    if BYLINE_PREFIX.match(line):
        rest = BYLINE_PREFIX.sub("", line)
        words = len(rest.split())
        ends_sentence = re.search(r"(?<![ap]\.m)[.!?][\"”’]?$", rest.strip(), re.I) is not None
        if words <= 6 and not ends_sentence:
            return True
        # "Reporter : Rina Mahendra Jumat, 12 Mei 2023 07:45": a name followed by a date line
        return (
            words <= 14
            and re.search(r"\d{4}", rest) is not None
            and re.search(r"\d{1,2}[:.]\d{2}", rest) is not None
            and not ends_sentence
        )
    return len(line) <= 80 and parse_date(line) is not None


def clean_lines(lines: Iterable[str], title_keys: set[str]) -> list[str]:
    """Body paragraphs without headline repeats, boilerplate lines, bylines or date lines."""
    out: list[str] = []
    for line in lines:
        line = WIDGET_SUFFIX.sub("", _clean_space(line))
        key = _norm(line)
        if not key:
            continue
        if _is_title_line(key, title_keys):
            continue
        if len(line) <= 400 and BOILERPLATE.match(line):
            continue
        if _is_byline_or_date(line):
            continue
        out.append(line)
    return out


def _trafilatura_text(tree, precision: bool) -> str:
    import trafilatura

    try:
        text = trafilatura.extract(
            tree,
            include_comments=False,
            include_images=False,
            favor_precision=precision,
            deduplicate=False,
            with_metadata=False,
        )
    except Exception:  # trafilatura's own bugs on odd pages: fall back to the next method
        text = None
    return text or ""


INLINE_TAGS = frozenset(
    (
        "a",
        "abbr",
        "b",
        "cite",
        "code",
        "del",
        "em",
        "font",
        "i",
        "ins",
        "mark",
        "q",
        "s",
        "small",
        "span",
        "strong",
        "sub",
        "sup",
        "time",
        "u",
    )
)
LOOSE_TEXT_HOSTS = ("div", "td", "section", "article", "main")
MIN_LOOSE_CHARS = 50  # shorter bare text is labels and separators, not a paragraph


def wrap_loose_text(tree) -> None:
    """Wrap long runs of bare text in containers that also hold blocks into <p>, the paragraphs they
    are."""
    # Some sites write a paragraph as text straight in the article <div>, next to real <p>s and
    # separated by <br>s; trafilatura reads paragraphs, and drops such text (often the lead).
    for host in list(tree.iter(*LOOSE_TEXT_HOSTS)):
        if _has_loose_text(host):
            _rewrap(host)


def _is_block(node) -> bool:
    return isinstance(node.tag, str) and node.tag not in INLINE_TAGS  # <br> too: it ends a run


def _is_long(text: str | None) -> bool:
    return text is not None and len(text.strip()) >= MIN_LOOSE_CHARS


def _has_loose_text(host) -> bool:
    children = list(host)
    if not any(_is_block(c) and c.tag != "br" for c in children):
        return False  # text with only inline tags and <br>s: trafilatura reads that frame itself
    return _is_long(host.text) or any(_is_long(c.tail) for c in children)


def _rewrap(host) -> None:
    nodes: list = [host.text] if host.text else []
    host.text = None
    for child in list(host):
        tail, child.tail = child.tail, None
        host.remove(child)
        nodes += [child, tail] if tail else [child]
    run: list = []
    for node in nodes:
        if not isinstance(node, str) and _is_block(node):
            _emit_run(host, run)
            run = []
            host.append(node)
        else:
            run.append(node)
    _emit_run(host, run)


def _emit_run(host, run: list) -> None:
    text = "".join(
        n if isinstance(n, str) else n.text_content() if isinstance(n.tag, str) else "" for n in run
    )
    target = host
    if _is_long(text):
        target = host.makeelement("p", {})
        host.append(target)
    for node in run:
        if not isinstance(node, str):
            target.append(node)
        elif len(target):
            target[-1].tail = (target[-1].tail or "") + node
        else:
            target.text = (target.text or "") + node


HOVER_CARDS = (
    "//*[self::span or self::div or self::aside][preceding-sibling::*[1][self::a]]"
    "[re:test(@class, 'tooltip|popover|hover-?card|rollover|popup', 'i')]"
)


def drop_hover_cards(tree) -> None:
    """Remove the pop-up cards (bio, related links) that sites place right after a link in the
    text."""
    # The card is hidden until the reader hovers the link, but its text sits inline in the
    # paragraph, so an extractor glues it into the sentence ("... Rep. Jane DoeJane DoeLatest:
    # ...").
    for card in tree.xpath(HOVER_CARDS, namespaces={"re": "http://exslt.org/regular-expressions"})[
        :200
    ]:
        if card.getparent() is not None:
            card.drop_tree()  # keeps the tail: the rest of the sentence


SOCIAL_EMBEDS = (
    "//blockquote[contains(@class, 'twitter-tweet') or contains(@class, 'instagram-media') "
    "or contains(@class, 'tiktok-embed')]"
)
WRAPPER_TAGS = ("div", "figure", "section", "aside", "span")


def unwrap_social_embeds(tree) -> None:
    """Lift embedded posts (tweets, Instagram, TikTok) out of the widget boxes that hold only
    them."""
    # An embedded post quotes a source the story is about, but sites box it in "widget"/"embed"
    # containers, which trafilatura prunes as page furniture; the bare blockquote it keeps.
    for quote in tree.xpath(SOCIAL_EMBEDS)[:50]:
        text = _clean_space(quote.text_content())
        top, parent = quote, quote.getparent()
        while (
            parent is not None
            and parent.tag in WRAPPER_TAGS
            and _clean_space(parent.text_content()) == text
        ):
            top, parent = parent, parent.getparent()
        if top is not quote and parent is not None:
            quote.tail = top.tail
            parent.replace(top, quote)


def _paragraph_text(tree) -> str:
    """Last resort: all <p> text of the page."""
    parts = []
    for p in tree.xpath("//p")[:2000]:
        try:
            text = _clean_space(p.text_content())
        except Exception:
            continue
        if text:
            parts.append(text)
    return "\n".join(parts)


def body_text(tree, title: str | None = None) -> str:
    """The article body of a parsed page, paragraphs split by blank lines ('' when none); edits the
    tree."""
    keys = _title_keys(tree, title)
    drop_hover_cards(tree)
    wrap_loose_text(tree)
    unwrap_social_embeds(tree)
    lines = clean_lines(_trafilatura_text(tree, precision=True).split("\n"), keys)
    if sum(len(x) for x in lines) < 200:
        # precision mode can throw away a short article; take the fuller default if it found more
        fuller = clean_lines(_trafilatura_text(tree, precision=False).split("\n"), keys)
        if sum(len(x) for x in fuller) > sum(len(x) for x in lines):
            lines = fuller
    if not lines:
        lines = clean_lines(_paragraph_text(tree).split("\n"), keys)
    return "\n\n".join(lines)


# --- the whole page -------------------------------------------------------------------------------


def _title(tree, ld: dict) -> str | None:
    value = _meta(tree, "og:title", "twitter:title")
    if not value and ld and isinstance(ld.get("headline"), str):
        value = _clean_space(ld["headline"])
    if not value:
        for h1 in tree.xpath("//h1")[:1]:
            value = _clean_space(h1.text_content())
    if not value:
        for t in tree.xpath("//title/text()")[:1]:
            value = re.split(r"\s+[|–—]\s+|\s+-\s+(?=[^-]*$)", _clean_space(t))[0]
    return value or None


def _outlet(tree, ld: dict, given: str | None, url: str | None) -> str | None:
    value = _meta(tree, "og:site_name", "application-name")
    if not value and ld:
        names = _names(ld.get("publisher"))
        value = names[0] if names else None
    if not value:
        value = given
    if not value and url:
        host = (urlsplit(url).hostname or "").lower()
        value = host[4:] if host.startswith("www.") else host or None
    return _clean_space(value) or None


def _canonical(tree, url: str | None) -> str | None:
    for href in tree.xpath("//link[@rel='canonical']/@href")[:1] + [_meta(tree, "og:url") or ""]:
        href = _clean_space(href)
        if href and not href.startswith(("javascript:", "#")):
            try:
                absolute = urljoin(url or "", href)
            except ValueError:
                continue
            if urlsplit(absolute).scheme in ("http", "https"):
                return absolute
    return url


def extract(
    html: bytes | str,
    url: str | None = None,
    *,
    fetched_at: str | None = None,
    encoding: str | None = None,
    outlet: str | None = None,
    keep_non_articles: bool = False,
    require_article_marks: bool = False,
) -> Article:
    """Extract one news page into an Article; raise ExtractionError when it holds no article text.

    A page with text that is not a news article (`newsclf.collect.pagetype`) raises NotAnArticle,
    saying why; with `keep_non_articles` it is returned with the reason in metadata["not_article"].
    `require_article_marks` (crawled pages, which may be anything) also refuses a page that shows no
    mark of an article (no declared type, date, byline or long prose).
    Never touches the network. Input over MAX_BYTES is cut there, and metadata says so.
    """
    metadata: dict[str, Any] = {}
    if isinstance(html, (bytes, bytearray)):
        data = bytes(html)
        if len(data) > MAX_BYTES:
            data = data[:MAX_BYTES]
            metadata["truncated_at"] = MAX_BYTES
        text, used = decode_html(data, encoding)
        metadata["encoding"] = used
    elif isinstance(html, str):
        text = html
        if len(text) > MAX_BYTES:
            text = text[:MAX_BYTES]
            metadata["truncated_at"] = MAX_BYTES
    else:
        raise ExtractionError(f"expected HTML as str or bytes, not {type(html).__name__}")
    where = url or "page"
    if not text.strip():
        raise ExtractionError("the page is empty", where)
    text = text.replace("\x00", "")
    if "<" not in text[:10000]:
        raise ExtractionError(
            "the body is not HTML (no tags in the first 10,000 characters)", where
        )
    if (too_costly := html_budget(text)) is not None:
        raise ExtractionError(too_costly, where)
    tree = _load_tree(text)
    if tree is None:
        raise ExtractionError("not parseable as HTML", where)
    try:
        items = _json_ld(tree)
        ld = _ld_article(items)
        title = _title(tree, ld)
        body = body_text(tree, title)
    except ExtractionError:
        raise
    except Exception as exc:  # pathological trees (lxml limits, recursion); report, do not crash
        raise ExtractionError(
            f"could not read the page ({type(exc).__name__}: {exc})", where
        ) from None
    if len(body) < MIN_TEXT_CHARS:
        raise ExtractionError(
            f"no article text found (the page has {len(body)} characters of body text)", where
        )
    try:
        authors = _authors(tree, ld)
    except Exception:
        authors = []
    try:
        published = _published(tree, ld)
    except Exception:
        published = None
    verdict = page_verdict(
        tree, url, body, items, _meta(tree, "og:type"), published, authors, require_article_marks
    )
    if verdict:
        if not keep_non_articles:
            raise NotAnArticle(verdict, where)
        metadata["not_article"] = verdict
    lang = _lang(tree, body)
    canonical = _canonical(tree, url)
    try:
        pagination = pagination_of_tree(tree, url or "")
    except Exception:
        pagination = None
    if pagination and (pagination.next_url or pagination.page_urls or pagination.total):
        metadata["pagination"] = pagination.to_dict()
    return Article(
        url=url,
        canonical_url=canonical,
        outlet=_outlet(tree, ld, outlet, url),
        title=title,
        authors=authors,
        published=published,
        lang=lang,
        text=body,
        pages=1,
        fetched_at=fetched_at,
        metadata=metadata,
    )
