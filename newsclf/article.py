"""The Article record every stage passes on, and its JSONL and CSV forms."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import unicodedata
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from typing import Any, Iterable, Iterator
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from newsclf.errors import InputError

# Query parameters that only say where a reader clicked from; they never change the article.
TRACKING_PARAMS = re.compile(
    r"^(utm_[a-z]+|fbclid|gclid|dclid|msclkid|mc_[a-z]+|igshid|ref|ref_src|cmpid|ncid|"
    r"spm|_ga|yclid|share|amp)$",
    re.IGNORECASE,
)

ARTICLE_FIELDS = (
    "id",
    "url",
    "canonical_url",
    "outlet",
    "title",
    "authors",
    "published",
    "lang",
    "text",
    "pages",
    "fetched_at",
    "content_hash",
    "metadata",
)
# CSV cells are strings; these two carry JSON so lists and dicts survive the trip.
JSON_CSV_FIELDS = ("authors", "metadata")


def canonicalize_url(url: str) -> str:
    """Return the URL without tracking parameters, fragment, default port or case noise in the
    host."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:  # a bad port or a broken IPv6 literal
        raise InputError(f"not a valid URL: {url[:200]!r} ({exc})") from None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not TRACKING_PARAMS.match(k)
    ]
    path = parts.path or "/"
    return urlunsplit((scheme, host, path, urlencode(sorted(query)), ""))


def id_from_url(canonical_url: str) -> str:
    """A stable article id from its canonical URL (16 hex digits of SHA-1)."""
    return hashlib.sha1(canonical_url.encode("utf-8")).hexdigest()[:16]


def normalize_text(text: str) -> str:
    """Text as compared for exact duplicates: NFC, whitespace folded, case folded."""
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


# A lone surrogate (JSON's "\\ud800" without its pair) cannot be written as UTF-8: SQLite, hashing
# and
# every output would fail on it. It is replaced by U+FFFD, as undecodable bytes are when files are
# read.
_SURROGATE = re.compile("[\ud800-\udfff]")
# nesting allowed in a record's values (metadata); deeper is refused before anything recurses
MAX_DEPTH = 32


def clean_string(value: str) -> str:
    """The string with lone surrogates replaced by U+FFFD (a no-op, and fast, for ordinary text)."""
    return _SURROGATE.sub("\ufffd", value) if _SURROGATE.search(value) else value


def clean_value(value: Any, max_depth: int = MAX_DEPTH) -> Any:
    """A parsed JSON value with lone surrogates replaced in every string and key; InputError past
    max_depth levels.

    Iterative, so a hostile depth costs no Python recursion.
    """
    if isinstance(value, str):
        return clean_string(value)
    if not isinstance(value, (dict, list)):
        return value
    root: list[Any] = [value]
    stack: list[tuple[Any, Any, int]] = [
        (root, 0, 0)
    ]  # (container, key in it, depth of the value there)
    while stack:
        parent, key, depth = stack.pop()
        item = parent[key]
        if isinstance(item, str):
            parent[key] = clean_string(item)
        elif isinstance(item, (dict, list)):
            if depth >= max_depth:
                raise InputError(
                    f"a value nests deeper than {max_depth} levels; flatten it (e.g. metadata)"
                )
            if isinstance(item, dict):
                if any(isinstance(k, str) and _SURROGATE.search(k) for k in item):
                    item = parent[key] = {
                        clean_string(k) if isinstance(k, str) else k: v for k, v in item.items()
                    }
                stack.extend((item, k, depth + 1) for k in item)
            else:
                stack.extend((item, i, depth + 1) for i in range(len(item)))
    return root[0]


def content_hash(title: str | None, text: str) -> str:
    """SHA-256 of the normalized title and text: equal for copies that differ only in layout."""
    payload = normalize_text(title or "") + "\n" + normalize_text(text)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _check_iso(value: Any, name: str) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    if not isinstance(value, str):
        raise InputError(f"{name} must be an ISO 8601 date string, not {type(value).__name__}")
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(
            f"{name} {value!r} is not an ISO 8601 date; write e.g. 2023-05-12T07:45:00+07:00"
        ) from None
    return value


def _optional_str(value: Any, name: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InputError(f"{name} must be a string, not {type(value).__name__}")
    return value


@dataclass
class Article:
    """One news article as it flows fetch -> extract -> store -> label -> train -> predict ->
    report."""

    id: str = ""
    url: str | None = None
    canonical_url: str | None = None
    outlet: str | None = None
    title: str | None = None
    authors: list[str] = field(default_factory=list)
    published: str | None = None
    lang: str | None = None
    text: str = ""
    pages: int = 1
    fetched_at: str | None = None
    content_hash: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Empty strings and None mean the same for optional fields, so every form round-trips.
        for name in ("url", "canonical_url", "outlet", "title", "lang"):
            setattr(self, name, _optional_str(getattr(self, name), name))
            if getattr(self, name) is not None:
                setattr(self, name, clean_string(getattr(self, name)))
        self.published = _check_iso(self.published, "published")
        self.fetched_at = _check_iso(self.fetched_at, "fetched_at")
        if not isinstance(self.text, str):
            raise InputError(f"text must be a string, not {type(self.text).__name__}")
        self.text = clean_string(self.text)
        if isinstance(self.authors, str):
            self.authors = [self.authors]
        if not isinstance(self.authors, list) or not all(isinstance(a, str) for a in self.authors):
            raise InputError("authors must be a list of strings")
        if not isinstance(self.metadata, dict):
            raise InputError("metadata must be an object")
        self.authors = [clean_string(a) for a in self.authors]
        self.metadata = clean_value(self.metadata)
        if isinstance(self.pages, bool) or not isinstance(self.pages, int) or self.pages < 1:
            try:
                self.pages = int(self.pages)
            except (TypeError, ValueError):
                raise InputError(f"pages must be a whole number >= 1, not {self.pages!r}") from None
            if self.pages < 1:
                raise InputError(f"pages must be a whole number >= 1, not {self.pages!r}")
        if self.url and not self.canonical_url:
            self.canonical_url = canonicalize_url(self.url)
        if not self.content_hash:
            self.content_hash = content_hash(self.title, self.text)
        if not self.id:
            if self.canonical_url:
                self.id = id_from_url(self.canonical_url)
            elif self.text or self.title:
                self.id = self.content_hash[:16]
            else:
                raise InputError("an article needs an id, a url, or some text")
        if not isinstance(self.id, str):
            self.id = str(self.id)
        self.id = clean_string(self.id)

    @property
    def published_utc(self) -> datetime | None:
        """Publication time in UTC for ordering (a time without zone is taken as UTC)."""
        if not self.published:
            return None
        dt = datetime.fromisoformat(self.published.replace("Z", "+00:00"))
        return dt.astimezone(timezone.utc) if dt.tzinfo else dt.replace(tzinfo=timezone.utc)

    def to_dict(self) -> dict[str, Any]:
        """The article as a plain dict, in field order."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Article":
        """Build an Article from a dict; unknown keys go to metadata, not lost."""
        if not isinstance(data, dict):
            raise InputError(f"expected a JSON object, got {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in known}
        extra = {k: v for k, v in data.items() if k not in known and k not in RECORD_ONLY_KEYS}
        if extra:
            kwargs["metadata"] = {**extra, **(kwargs.get("metadata") or {})}
        if "id" in kwargs and kwargs["id"] is not None and not isinstance(kwargs["id"], str):
            kwargs["id"] = str(kwargs["id"])
        if kwargs.get("id") is None:
            kwargs.pop("id", None)
        if kwargs.get("text") is None:
            kwargs["text"] = ""
        if kwargs.get("authors") is None:
            kwargs.pop("authors", None)
        if kwargs.get("metadata") is None:
            kwargs.pop("metadata", None)
        if kwargs.get("pages") in (None, ""):
            kwargs.pop("pages", None)
        return cls(**kwargs)

    def to_json(self) -> str:
        """One JSONL line (no newline)."""
        return json.dumps(self.to_dict(), ensure_ascii=False)

    @classmethod
    def from_json(cls, line: str) -> "Article":
        """Parse one JSONL line."""
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
        return cls.from_dict(data)

    def to_csv_row(self) -> dict[str, str]:
        """The article as CSV cells: lists and dicts as JSON, None as an empty cell."""
        row: dict[str, str] = {}
        for name, value in self.to_dict().items():
            if name in JSON_CSV_FIELDS:
                row[name] = json.dumps(value, ensure_ascii=False)
            elif value is None:
                row[name] = ""
            else:
                row[name] = str(value)
        return row

    @classmethod
    def from_csv_row(cls, row: dict[str, str | None]) -> "Article":
        """Inverse of to_csv_row; tolerates missing columns."""
        data: dict[str, Any] = {}
        for name, value in row.items():
            if name is None:
                raise InputError("the row has more cells than the header has columns")
            if name in JSON_CSV_FIELDS and value:
                try:
                    data[name] = json.loads(value)
                except json.JSONDecodeError:
                    if name == "authors":  # a plain "A; B" cell written by hand
                        data[name] = [a.strip() for a in value.split(";") if a.strip()]
                    else:
                        raise InputError(f"column {name} is not valid JSON") from None
            else:
                data[name] = value
        return cls.from_dict(data)


# Keys of a labeled or exported record that belong to annotations or predictions, not to the
# article.
RECORD_ONLY_KEYS = frozenset(
    {
        "labels",
        "target",
        "labeler",
        "seconds",
        "gold",
        "annotations",
        "predictions",
        "cats",
        "model",
        "targets",
    }
)


def write_jsonl(articles: Iterable[Article], fh: io.TextIOBase) -> int:
    """Write articles as JSONL; returns how many."""
    n = 0
    for article in articles:
        fh.write(article.to_json() + "\n")
        n += 1
    return n


def write_csv(articles: Iterable[Article], fh: io.TextIOBase) -> int:
    """Write articles as CSV with a header row; returns how many."""
    writer = csv.DictWriter(fh, fieldnames=list(ARTICLE_FIELDS))
    writer.writeheader()
    n = 0
    for article in articles:
        writer.writerow(article.to_csv_row())
        n += 1
    return n


def read_jsonl(fh: Iterable[str]) -> Iterator[Article]:
    """Read articles from JSONL, raising InputError with the line number on a bad line."""
    for lineno, line in enumerate(fh, 1):
        if not line.strip():
            continue
        try:
            yield Article.from_json(line)
        except InputError as exc:
            raise InputError(f"line {lineno}: {exc}") from None


def read_csv(fh: Iterable[str]) -> Iterator[Article]:
    """Read articles from CSV with a header row."""
    for rowno, row in enumerate(csv.DictReader(fh), 2):
        try:
            yield Article.from_csv_row(row)
        except InputError as exc:
            raise InputError(f"line {rowno}: {exc}") from None
