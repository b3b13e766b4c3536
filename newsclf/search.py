"""The search language: what a researcher types, checked and turned into an SQLite FTS5 query.

It is FTS5's own syntax (https://www.sqlite.org/fts5.html#full_text_query_syntax), so nothing is
lost in translation, made forgiving where researchers' habits differ:

    labelers AND chatbot        both words (AND is also implied: `labelers chatbot`)
    labor OR labour             either word
    chatbot NOT sport           the first without the second (also: chatbot AND NOT sport)
    "data labelers"             a phrase
    pekerja*                    a prefix: pekerja, pekerjaan, pekerjanya
    NEAR(OpenAI wages, 10)      both within 10 words of each other
    title:OpenAI                only in the title (text: only in the body)
    (labor OR wages) AND title:chatbot

Operators are upper-case (lower-case `and`, `or`, `not` are words). Matching folds case and
diacritics (café = cafe) and splits words on every character that is not a letter or digit, so a
word with a hyphen or a dot (`AI-generated`, `U.S.`) is searched as the phrase of its parts. SQL
stays in the store (`Store.search_articles`, `Store.search_counts`).
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from typing import Any, TextIO

from newsclf.errors import InputError

COLUMNS = ("title", "text")
OPERATORS = ("AND", "OR", "NOT")
PERIODS = ("day", "week", "month")
_TOKEN = re.compile(
    r'\s*(?:(?P<quote>"(?:[^"]|"")*")|(?P<near>NEAR\()|(?P<paren>[()])|(?P<comma>,)'
    r'|(?P<col>(?:title|text)\s*:)|(?P<word>[^\s()",]+))'
)
_BARE = re.compile(r"^[\w\u0080-\U0010ffff]+\*?$")


@dataclass(frozen=True)
class Filters:
    """What narrows a search besides the query: dates (ISO, inclusive), outlets, language,
    labels."""

    since: str | None = None
    until: str | None = None
    outlets: tuple[str, ...] = ()
    lang: str | None = None
    label: tuple[str, str] | None = (
        None  # (scheme, label): coded by a coder or decided by a reviewer
    )
    predicted: tuple[str, str, float | None] | None = None  # (scheme, label, minimum probability)


def to_match(query: str) -> str:
    """The FTS5 MATCH expression for a query in the search language; InputError says what is wrong
    and where."""
    if not query or not query.strip():
        raise InputError(
            'the search query is empty; give words, a "phrase" or a prefix* (see newsclf search'
            " --help)"
        )
    out: list[str] = []
    kinds: list[tuple[str, int]] = []  # per token of out: its kind and where it starts (1-based)
    depth = 0
    pos = 0
    text = query.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise InputError(
                f"the query cannot be read at character {pos + 1}: {text[pos : pos + 20]!r}"
            )
        start = m.end() - len(m.group(m.lastgroup or 0)) + 1
        pos = m.end()
        if m.group("quote"):
            out.append(m.group("quote"))
            kinds.append(("term", start))
        elif m.group("near"):
            out.append("NEAR(")
            kinds.append(("open", start))
            depth += 1
        elif m.group("paren"):
            depth += 1 if m.group("paren") == "(" else -1
            if depth < 0:
                raise InputError(f"the query closes a bracket it never opened (at character {pos})")
            out.append(m.group("paren"))
            kinds.append(("open" if m.group("paren") == "(" else "close", start))
        elif m.group("comma"):
            out.append(",")
            kinds.append(("comma", start))
        elif m.group("col"):
            out.append(m.group("col").replace(" ", "").lower())
            kinds.append(("column", start))
        else:
            word = m.group("word")
            if word == "NOT" and out and out[-1] == "AND":
                out[-1] = (
                    "NOT"  # "a AND NOT b" is what people write; FTS5's NOT is binary: "a NOT b"
                )
                continue
            elif word in OPERATORS or word.isdigit() and out and out[-1] == ",":
                out.append(word)
                kinds.append(("operator" if word in OPERATORS else "term", start))
            elif _BARE.match(word):
                out.append(word)
                kinds.append(("term", start))
            else:  # AI-generated, U.S., e-mail: the phrase of the parts the tokenizer makes
                star = "*" if word.endswith("*") else ""
                out.append('"' + word.rstrip("*").replace('"', '""') + '"' + star)
                kinds.append(("term", start))
    if depth:
        raise InputError("the query opens a bracket it never closes")
    _check_operands(out, kinds)
    match = ""
    for token in out:  # "title:" and "NEAR(" bind to what follows without a space
        match += (
            token
            if (match.endswith((":", "(")) or token in (")", ","))
            else (" " + token if match else token)
        )
    return match


def _check_operands(out: list[str], kinds: list[tuple[str, int]]) -> None:
    """InputError where AND/OR/NOT or a column prefix lacks its term (FTS5 would only say "syntax
    error near ..."), naming the character."""
    for i, (kind, start) in enumerate(kinds):
        before = kinds[i - 1][0] if i else None
        after = kinds[i + 1][0] if i + 1 < len(kinds) else None
        if kind == "operator":
            if before not in ("term", "close"):
                raise InputError(
                    f"the search query is not valid: {out[i]} at character {start} needs a term"
                    f" before it (e.g. wages {out[i]} OpenAI)"
                )
            if after not in ("term", "open", "column"):
                raise InputError(
                    f"the search query is not valid: {out[i]} at character {start} needs a term"
                    f" after it (e.g. wages {out[i]} OpenAI)"
                )
        elif kind == "column" and after not in ("term", "open"):
            raise InputError(
                f"the search query is not valid: {out[i]} at character {start} needs a word or"
                f' "phrase" after it (e.g. {out[i]}wages)'
            )


def parse_predicted(value: str) -> tuple[str, str, float | None]:
    """`scheme:label` or `scheme:label>=0.8` -> (scheme, label, minimum probability or None)."""
    m = re.fullmatch(
        r"\s*([a-z0-9][a-z0-9_\-]*)\s*:\s*([a-z0-9][a-z0-9_\-]*)\s*(?:>=\s*([01](?:\.\d+)?))?\s*",
        value,
    )
    if m is None:
        raise InputError(
            f"{value!r} is not SCHEME:LABEL or SCHEME:LABEL>=P (e.g. topics:labor>=0.8)"
        )
    return m.group(1), m.group(2), float(m.group(3)) if m.group(3) else None


def parse_label(value: str) -> tuple[str, str]:
    """`scheme:label` -> (scheme, label)."""
    scheme, label, threshold = parse_predicted(value)
    if threshold is not None:
        raise InputError(
            f"{value!r}: a coded label has no probability; use --predicted for a threshold"
        )
    return scheme, label


HIT_START, HIT_END = "\x02", "\x03"  # how the store marks matches inside snippets


def marked(text: str | None, start: str = "[", end: str = "]") -> str:
    """A snippet with its matches between `start` and `end` (and no control characters)."""
    return (text or "").replace(HIT_START, start).replace(HIT_END, end)


def write_hits(hits: list[dict[str, Any]], fh: TextIO, fmt: str, emphasis: Any = None) -> None:
    """Search results as a table (snippets with matches emphasised), JSONL or CSV."""
    fields = ["id", "published", "outlet", "lang", "title", "url", "snippet"]
    if fmt == "jsonl":
        for h in hits:
            fh.write(
                json.dumps(
                    {k: marked(h[k]) if k == "snippet" else h[k] for k in fields},
                    ensure_ascii=False,
                )
                + "\n"
            )
        return
    if fmt == "csv":
        writer = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows({**h, "snippet": marked(h["snippet"])} for h in hits)
        return
    for h in hits:
        when = (h["published"] or "no date")[:10]
        fh.write(
            f"{when}  {h['outlet'] or '?'}  {h['id']}\n "
            f" {marked(h['title_marked'] or h['title'] or '', *_marks(emphasis))}\n"
        )
        fh.write(f"  {marked(' '.join((h['snippet'] or '').split()), *_marks(emphasis))}\n\n")


def _marks(emphasis: Any) -> tuple[str, str]:
    return ("\x1b[1;4m", "\x1b[0m") if emphasis else ("[", "]")


def write_counts(rows: list[dict[str, Any]], fh: TextIO, fmt: str) -> None:
    """Attention rows (period, outlet?, matching, total, share) as a table, JSONL or CSV."""
    for r in rows:
        r["share"] = round(r["matching"] / r["total"], 4) if r["total"] else None
    fields = [
        k for k in ("period", "outlet", "matching", "total", "share") if not rows or k in rows[0]
    ]
    if fmt == "jsonl":
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    elif fmt == "csv":
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    else:
        fh.write("  ".join(f"{f:>10}" if f != "outlet" else f"{f:<20}" for f in fields) + "\n")
        for r in rows:
            cells = [
                (
                    f"{r[f]:<20}"
                    if f == "outlet"
                    else f"{'' if r[f] is None else (f'{r[f]:.1%}' if f == 'share' else r[f]):>10}"
                )
                for f in fields
            ]
            fh.write("  ".join(cells) + "\n")
