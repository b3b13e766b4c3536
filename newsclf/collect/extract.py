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
from itertools import islice
from typing import Any, Callable, Iterable, Iterator
from urllib.parse import urljoin, urlsplit

from newsclf.article import Article
from newsclf.collect.budget import html_budget
from newsclf.collect.dates import parse_date
from newsclf.collect.encoding import decode
from newsclf.collect.pages import pagination_of_tree
from newsclf.collect.pagetype import page_verdict, verdict_before_body
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


_PARSER: Any = None


def _html_parser():
    """trafilatura's parser settings, with lxml.html's element classes looked up in C."""
    # lxml.html's own lookup calls Python for every element proxy made (tag -> FormElement,
    # InputElement, ...); trafilatura and we walk the tree often enough that this was a tenth of
    # extraction. Every element is an HtmlElement here (text_content, drop_tree), as before.
    global _PARSER
    if _PARSER is None:
        from lxml import etree
        from lxml import html as lxml_html

        parser = etree.HTMLParser(
            collect_ids=False,
            default_doctype=False,
            encoding="utf-8",
            remove_comments=True,
            remove_pis=True,
        )
        parser.set_element_class_lookup(
            etree.ElementDefaultClassLookup(
                element=lxml_html.HtmlElement,
                comment=lxml_html.HtmlComment,
                pi=lxml_html.HtmlProcessingInstruction,
                entity=lxml_html.HtmlEntity,
            )
        )
        _PARSER = parser
    return _PARSER


# The characters trafilatura.utils.INVALID_XML_CHARS removes
_INVALID_XML = tuple(chr(c) for c in (*range(9), 11, 12, *range(14, 32), 0xFFFE, 0xFFFF))


def _repair(text: str, beginning: str) -> str:
    """trafilatura.utils.repair_faulty_html, without its regex pass when it would remove nothing."""
    from trafilatura.utils import DOCTYPE_TAG, FAULTY_HTML, repair_faulty_html

    # That pass scans the whole page in a regex (a fortieth of trafilatura's own time); a str
    # search per character costs half. The steps below are repair_faulty_html's others.
    if any(c in text for c in _INVALID_XML):
        return repair_faulty_html(text, beginning)
    if "doctype" in beginning:
        firstline, _, rest = text.partition("\n")
        text = DOCTYPE_TAG.sub("", firstline, count=1) + "\n" + rest
    for line in text[:4096].splitlines()[:4]:
        if "<html" in line and line.endswith("/>"):
            text = FAULTY_HTML.sub(r"\1>", text, count=1)
            break
    return text


def _load_tree(text: str):
    """The page's tree as trafilatura.utils.load_html builds it from a string, or None."""
    from lxml import html as lxml_html

    parser = _html_parser()

    def from_bytes():
        try:
            return lxml_html.fromstring(text.encode("utf8", "surrogatepass"), parser=parser)
        except Exception:
            return None

    try:
        beginning = text[:50].lower()
        text = _repair(text, beginning)
        fallback = False
        try:
            tree = lxml_html.fromstring(text, parser=parser)
        except ValueError:  # "Unicode strings with encoding declaration are not supported."
            tree, fallback = from_bytes(), True
        except Exception:  # lxml raises several types on hopeless input; bytes get a second try
            tree = None
        if (tree is None or len(tree) < 1) and not fallback:
            tree = from_bytes()
        if tree is not None and "html" not in beginning and len(tree) < 2:
            return None  # no <html> at the start and one block: not a page (trafilatura's test)
        return tree
    except Exception:  # lxml may raise on pathological input; treated as "no tree"
        return None


_WORD = re.compile(r"\w+")


def _norm(s: str) -> str:
    return " ".join(_WORD.findall(s.lower()))


def _clean_space(s: str | None) -> str:
    return " ".join((s or "").split())


META_ATTRS = ("property", "name", "itemprop")


def meta_index(tree) -> dict[tuple[str, str], str]:
    """The page's <meta> tags in one pass: (attribute, its value) -> the first non-empty content."""
    # One walk over the <meta>s instead of an XPath query per name asked for (dozens a page).
    index: dict[tuple[str, str], str] = {}
    for el in tree.getroottree().iter("meta"):
        content = el.get("content")
        if content is None:
            continue
        for attr in META_ATTRS:
            key = el.get(attr)
            if key is not None and (attr, key) not in index:
                value = _clean_space(content)
                if value:
                    index[(attr, key)] = value
    return index


def _meta(meta: dict[tuple[str, str], str], *names: str) -> str | None:
    for name in names:
        for attr in META_ATTRS:
            value = meta.get((attr, name))
            if value:
                return value
    return None


class _Heads:
    """A page's JSON-LD scripts, <title> texts, <h1>s and canonical links, found in one walk."""

    # One walk for what four XPath queries each walked the whole tree for. Read before the
    # repairs edit the tree; the canonical links are checked to be still in it when used.
    def __init__(self, tree) -> None:
        self.ld_scripts: list = []
        self.title_texts: list[str] = []  # XPath's //title/text()
        self.h1s: list = []
        self.canonical_links: list = []  # <link rel="canonical" href=...>
        for el in tree.getroottree().iter("script", "title", "h1", "link"):
            if el.tag == "link":
                if el.get("rel") == "canonical" and el.get("href") is not None:
                    self.canonical_links.append(el)
            elif el.tag == "script":
                if el.get("type") == "application/ld+json":
                    self.ld_scripts.append(el)
            elif el.tag == "title":
                texts = [el.text] + [child.tail for child in el]
                self.title_texts += [t for t in texts if t is not None]
            else:
                self.h1s.append(el)


def _attached(el, root) -> bool:
    """Whether `el` is still in the tree under `root` (the repairs drop and replace elements)."""
    while (parent := el.getparent()) is not None:
        el = parent
    return el is root


def _json_ld(heads: _Heads) -> list[dict]:
    """Every JSON-LD object on the page, @graph items flattened; bad JSON is skipped."""
    found: list[dict] = []
    for script in heads.ld_scripts[:20]:
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


def _authors(tree, ld: dict, meta: dict, lines: Iterable[str] | None = None) -> list[str]:
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
            value = _meta(meta, name)
            if value and "://" not in value:
                candidates = [value]
                break
    if not candidates:
        for el in islice(_elements(tree, _is_byline_element), 5):
            text = _clean_space(el.text_content())
            if text and len(text) < 150:
                candidates.append(text)
                break
    if not candidates:
        for text in _short_lines(tree) if lines is None else lines:
            if BYLINE_PREFIX.match(text) and len(text) < 120:
                candidates.append(text)
                break
    return clean_authors(candidates)


_XML_SPACE = re.compile(r"[ \t\r\n]+")  # XPath's normalize-space() splits on these alone


def _elements(tree, test: Callable[[Any], bool]) -> Iterator[Any]:
    """The document's elements that pass `test`, in document order (XPath's `//*[test]`)."""
    # A walk in Python with plain attribute tests: XPath's string functions per element cost
    # libxml2 a string copy each, several times this on a page of a thousand elements.
    from lxml import etree

    return filter(test, tree.getroottree().iter(etree.Element))


def _is_byline_element(el) -> bool:
    """@rel or @itemprop 'author', or a class 'author' or holding byline, reporter or penulis."""
    if el.get("rel") == "author" or el.get("itemprop") == "author":
        return True
    cls = el.get("class")
    if not cls:
        return False
    return (
        ("author" in cls and "author" in _XML_SPACE.split(cls))
        or "byline" in cls
        or "reporter" in cls
        or "penulis" in cls
    )


def _is_date_element(el) -> bool:
    """A <time>, or a class holding date, time, tanggal or publish."""
    if el.tag == "time":
        return True
    cls = el.get("class")
    return bool(cls) and ("date" in cls or "time" in cls or "tanggal" in cls or "publish" in cls)


class _Replay:
    """An iterable over a generator's items that computes each item once, however often read."""

    # Bylines and date lines both fall back to the page's short lines; on a crawl's pages, which
    # mostly have neither, each read all 400 of them (a walk of the page and a split per text).
    def __init__(self, items: Iterable[str]) -> None:
        self._items = iter(items)
        self._seen: list[str] = []

    def __iter__(self) -> Iterator[str]:
        i = 0
        while True:
            if i == len(self._seen):
                try:
                    self._seen.append(next(self._items))
                except StopIteration:
                    return
            yield self._seen[i]
            i += 1


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


def _published(tree, ld: dict, meta: dict, lines: Iterable[str] | None = None) -> str | None:
    for value in [ld.get("datePublished"), ld.get("dateCreated")] if ld else []:
        if isinstance(value, str):
            dt = parse_date(value)
            if dt:
                return _iso(dt)
    value = _meta(meta, *DATE_META)
    if value:
        dt = parse_date(value)
        if dt:
            return _iso(dt)
    for el in tree.xpath("//time[@datetime]")[:3]:
        dt = parse_date(el.get("datetime", ""))
        if dt:
            return _iso(dt)
    # visible date lines: elements classed as dates first, then any short line that is only a date
    for el in islice(_elements(tree, _is_date_element), 20):
        text = _clean_space(el.text_content())
        if 6 <= len(text) <= 120:
            dt = parse_date(text) or parse_date(BYLINE_PREFIX.sub("", text))
            if dt:
                return _iso(dt)
    for text in _short_lines(tree) if lines is None else lines:
        if re.search(r"\d{4}", text):
            dt = parse_date(text)
            if dt:
                return _iso(dt)
    return None


# --- language ------------------------------------------------------------------------------------

LANG_ATTR = re.compile(r"^([a-z]{2,3})(?:[-_][a-z0-9]{1,8})*$", re.I)


XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def _html_lang(tree) -> list[str]:
    """The first of XPath's `/html/@lang | //html/@lang | /html/@xml:lang` in a list, or []."""
    # The root <html>'s own @lang comes first in document order; only without it does the
    # query (a walk of the whole tree for nested <html>s) have to run.
    root = tree.getroottree().getroot()
    if root.tag == "html" and XML_LANG not in root.attrib:
        lang = root.get("lang")
        if lang is not None:
            return [lang]
    return tree.xpath("/html/@lang | //html/@lang | /html/@xml:lang")[:1]


def _lang(tree, text: str, meta: dict) -> str | None:
    for value in _html_lang(tree) + [
        _meta(meta, "og:locale", "content-language", "language") or ""
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


def _title_keys(heads: _Heads, title: str | None, meta: dict) -> set[str]:
    keys = set()
    values = heads.title_texts[:1] + heads.h1s[:2]
    values += [_meta(meta, "og:title") or "", _meta(meta, "twitter:title") or "", title or ""]
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
    # a line longer than every title key is none of them, nor the start of one
    longest = max(map(len, title_keys), default=0)
    for line in lines:
        line = _clean_space(line)
        if line[-5:].lower() == "tweet":  # the only lines WIDGET_SUFFIX can change
            line = WIDGET_SUFFIX.sub("", line)
        key = _norm(line)
        if not key:
            continue
        if len(key) <= longest and _is_title_line(key, title_keys):
            continue
        if len(line) <= 400 and BOILERPLATE.match(line):
            continue
        if _is_byline_or_date(line):
            continue
        out.append(line)
    return out


# How we call trafilatura: the body text only (metadata comes from our own reading of the page),
# without its deduplication, which remembers paragraphs across calls in the process, so that a
# page's text would depend on the pages read before it.
TRAFILATURA_OPTIONS = dict(
    include_comments=False, include_images=False, deduplicate=False, with_metadata=False
)


def _trafilatura_text(tree, precision: bool) -> str:
    import trafilatura

    aside: list[tuple[Any, Any, Any, str | None]] = []
    try:
        _set_aside(tree, aside)
        text = trafilatura.extract(tree, favor_precision=precision, **TRAFILATURA_OPTIONS)
    except Exception:  # trafilatura's own bugs on odd pages: fall back to the next method
        text = None
    finally:
        _put_back(aside)
    return text or ""


LD_JSON = "application/ld+json"


def _set_aside(tree, aside: list[tuple[Any, Any, Any, str | None]]) -> None:
    """Take out of `tree` what trafilatura drops unread: scripts (but JSON-LD), styles, and the
    <meta>s and <link>s of the <head>, noting in `aside` how `_put_back` restores the tree."""
    # trafilatura copies the tree and walks it with a dozen XPath queries (several with a regex
    # test per element), readability once more: these are 12% of the bench pages' elements, and
    # trafilatura takes about 7% less time without them. None of its steps reads them: its
    # cleaning deletes them all, readability drops scripts and styles first and reads no <head>
    # but for its text, and only JSON-LD scripts are read (the forum test, JSON bodies). Their
    # tails join the text before them, as trafilatura's own deletion joins them.
    found = [el for el in tree.iter("script", "style") if el.get("type") != LD_JSON]
    if tree.tag == "html" and (head := tree.find("head")) is not None:
        found += head.iter("meta", "link")
    for el in found:
        parent = el.getparent()
        if parent is None or el is tree:
            continue
        prev, tail, before = el.getprevious(), el.tail, None
        if tail:
            if prev is None:
                before, parent.text = parent.text, (parent.text or "") + tail
            else:
                before, prev.tail = prev.tail, (prev.tail or "") + tail
        parent.remove(el)  # the tail stays with the element, and comes back with it
        aside.append((el, parent, prev, before))


def _put_back(aside: list[tuple[Any, Any, Any, str | None]]) -> None:
    """Restore what `_set_aside` took out, last first, and the texts their tails were joined to."""
    for el, parent, prev, before in reversed(aside):
        if prev is None:
            parent.insert(0, el)
            if el.tail:
                parent.text = before
        else:
            prev.addnext(el)
            if el.tail:
                prev.tail = before


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
    # the length before the strip: most text is short, and strip copies
    return (
        text is not None and len(text) >= MIN_LOOSE_CHARS and len(text.strip()) >= MIN_LOOSE_CHARS
    )


def _has_loose_text(host) -> bool:
    children = list(host)
    # the text first: most hosts have no long bare text, and that test is the cheaper
    if not (_is_long(host.text) or any(_is_long(c.tail) for c in children)):
        return False
    # text with only inline tags and <br>s: trafilatura reads that frame itself
    return any(_is_block(c) and c.tag != "br" for c in children)


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


HOVER_CARD_CLASS = re.compile(r"tooltip|popover|hover-?card|rollover|popup", re.I)
MAX_HOVER_CARDS = 200


def drop_hover_cards(tree) -> int:
    """Remove the pop-up cards (bio, related links) that sites place right after a link in the
    text; returns how many it removed.

    A card is a span, div or aside classed as a tooltip, popover, hover card, rollover or popup
    whose nearest element sibling before it is an <a>.
    """
    # The card is hidden until the reader hovers the link, but its text sits inline in the
    # paragraph, so an extractor glues it into the sentence ("... Rep. Jane DoeJane DoeLatest:
    # ..."). A walk in Python: the XPath this was (a regex test per element through EXSLT) cost
    # twice as much.
    cards = []
    for el in tree.getroottree().iter("span", "div", "aside"):
        cls = el.get("class")
        if cls and HOVER_CARD_CLASS.search(cls) and _previous_is_link(el):
            cards.append(el)
            if len(cards) >= MAX_HOVER_CARDS:
                break
    dropped = 0
    for card in cards:
        if card.getparent() is not None:
            card.drop_tree()  # keeps the tail: the rest of the sentence
            dropped += 1
    return dropped


def _previous_is_link(el) -> bool:
    prev = el.getprevious()
    while prev is not None and not isinstance(prev.tag, str):  # comments are not elements here
        prev = prev.getprevious()
    return prev is not None and prev.tag == "a"


SOCIAL_EMBED_CLASSES = ("twitter-tweet", "instagram-media", "tiktok-embed")
WRAPPER_TAGS = ("div", "figure", "section", "aside", "span")


def _is_social_embed(el) -> bool:
    """A class holding one of SOCIAL_EMBED_CLASSES (XPath's contains(@class, ...))."""
    cls = el.get("class")
    return cls is not None and any(name in cls for name in SOCIAL_EMBED_CLASSES)


def unwrap_social_embeds(tree) -> None:
    """Lift embedded posts (tweets, Instagram, TikTok) out of the widget boxes that hold only
    them."""
    # An embedded post quotes a source the story is about, but sites box it in "widget"/"embed"
    # containers, which trafilatura prunes as page furniture; the bare blockquote it keeps. The
    # blockquotes are listed before any is moved, in document order, as the XPath this was
    # (//blockquote[contains(@class, ...)]) listed them at half as much again the cost.
    quotes = islice(filter(_is_social_embed, tree.getroottree().iter("blockquote")), 50)
    for quote in list(quotes):
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


def body_text(tree, title: str | None = None, meta: dict | None = None) -> str:
    """The article body of a parsed page, paragraphs split by blank lines ('' when none); edits the
    tree."""
    meta = meta_index(tree) if meta is None else meta
    return _body_text(tree, _Heads(tree), title, meta)[0]


def _body_text(tree, heads: _Heads, title: str | None, meta: dict) -> tuple[str, bool]:
    """(body_text, whether the repairs removed elements from the tree)."""
    keys = _title_keys(heads, title, meta)
    dropped = drop_hover_cards(tree)
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
    return "\n\n".join(lines), dropped > 0


# --- the whole page -------------------------------------------------------------------------------


def _title(heads: _Heads, ld: dict, meta: dict) -> str | None:
    value = _meta(meta, "og:title", "twitter:title")
    if not value and ld and isinstance(ld.get("headline"), str):
        value = _clean_space(ld["headline"])
    if not value:
        for h1 in heads.h1s[:1]:
            value = _clean_space(h1.text_content())
    if not value:
        for t in heads.title_texts[:1]:
            value = re.split(r"\s+[|–—]\s+|\s+-\s+(?=[^-]*$)", _clean_space(t))[0]
    return value or None


def _outlet(tree, ld: dict, meta: dict, given: str | None, url: str | None) -> str | None:
    value = _meta(meta, "og:site_name", "application-name")
    if not value and ld:
        names = _names(ld.get("publisher"))
        value = names[0] if names else None
    if not value:
        value = given
    if not value and url:
        host = (urlsplit(url).hostname or "").lower()
        value = host[4:] if host.startswith("www.") else host or None
    return _clean_space(value) or None


def _canonical(tree, heads: _Heads, meta: dict, url: str | None) -> str | None:
    root = tree.getroottree().getroot()
    # XPath's //link[@rel='canonical']/@href[:1], among the links the repairs left in the tree
    links = [el.get("href") for el in heads.canonical_links if _attached(el, root)]
    for href in links[:1] + [_meta(meta, "og:url") or ""]:
        href = _clean_space(href)
        if href and not href.startswith(("javascript:", "#")):
            try:
                absolute = urljoin(url or "", href)
            except ValueError:
                continue
            if urlsplit(absolute).scheme in ("http", "https"):
                return absolute
    return url


def _early_verdict(url: str | None, items: list[dict], meta: dict) -> str | None:
    try:
        return verdict_before_body(url, items, _meta(meta, "og:type"))
    except Exception:  # a URL urlparse refuses: the whole way decides, as it always did
        return None


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
        heads = _Heads(tree)
        items = _json_ld(heads)
        ld = _ld_article(items)
        meta = meta_index(tree)
        if not keep_non_articles and (early := _early_verdict(url, items, meta)):
            raise NotAnArticle(early, where)
        title = _title(heads, ld, meta)
        body, dropped = _body_text(tree, heads, title, meta)
        if dropped:
            meta = meta_index(tree)  # anew: a <meta> inside a dropped hover card is gone
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
    lines = _Replay(_short_lines(tree))  # read by both, made once
    try:
        authors = _authors(tree, ld, meta, lines)
    except Exception:
        authors = []
    try:
        published = _published(tree, ld, meta, lines)
    except Exception:
        published = None
    verdict = page_verdict(
        tree, url, body, items, _meta(meta, "og:type"), published, authors, require_article_marks
    )
    if verdict:
        if not keep_non_articles:
            raise NotAnArticle(verdict, where)
        metadata["not_article"] = verdict
    lang = _lang(tree, body, meta)
    canonical = _canonical(tree, heads, meta, url)
    try:
        pagination = pagination_of_tree(tree, url or "")
    except Exception:
        pagination = None
    if pagination and (pagination.next_url or pagination.page_urls or pagination.total):
        metadata["pagination"] = pagination.to_dict()
    return Article(
        url=url,
        canonical_url=canonical,
        outlet=_outlet(tree, ld, meta, outlet, url),
        title=title,
        authors=authors,
        published=published,
        lang=lang,
        text=body,
        pages=1,
        fetched_at=fetched_at,
        metadata=metadata,
    )
