"""A record's fields as researchers' files give them: column names (`--map`), dates in local forms,
outlet names.

Each step keeps what it changed: a date that was not ISO 8601 keeps its original string in
`metadata.published_original`, a renamed outlet its original in `metadata.outlet_original`.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any, Callable, Iterable

from newsclf.article import ARTICLE_FIELDS
from newsclf.errors import InputError

# Fields a column may be mapped to: the Article's own (not its content hash, which is computed) and
# a labeled record's.
MAP_TARGETS = tuple(name for name in ARTICLE_FIELDS if name != "content_hash") + (
    "target",
    "labels",
    "labeler",
    "gold",
    "seconds",
)


def parse_column_map(spec: str | Iterable[str] | None) -> dict[str, str]:
    """`text=body,title=headline` (or several such strings) as {field: column}; InputError on a bad
    pair."""
    if not spec:
        return {}
    parts = [spec] if isinstance(spec, str) else list(spec)
    out: dict[str, str] = {}
    for pair in (p.strip() for part in parts for p in part.split(",")):
        if not pair:
            continue
        name, sep, column = pair.partition("=")
        name, column = name.strip(), column.strip()
        if not sep or not name or not column:
            raise InputError(
                f"--map takes FIELD=COLUMN pairs such as text=body,title=headline; got {pair!r}"
            )
        if name not in MAP_TARGETS and not name.startswith("labels."):
            raise InputError(
                f"--map: {name!r} is not a record field; map to one of {', '.join(MAP_TARGETS)} "
                "or labels.SCHEME"
            )
        if name in out:
            raise InputError(f"--map names {name!r} twice")
        out[name] = column
    return out


def apply_column_map(data: dict[str, Any], column_map: dict[str, str]) -> dict[str, Any]:
    """data with each mapped column renamed to its field; a field the row already had is kept as
    original_FIELD."""
    if not column_map:
        return data
    out = dict(data)
    for name, column in column_map.items():
        if column not in data:
            continue
        value = out.pop(column)
        # one scheme's labels from a column: ';'-separated ids, as in CSV
        if name.startswith("labels."):
            if isinstance(value, str):
                value = [x.strip() for x in value.replace("|", ";").split(";") if x.strip()]
            if value:  # an empty cell: not coded for this scheme
                labels = out.get("labels") if isinstance(out.get("labels"), dict) else {}
                out["labels"] = {**labels, name[len("labels.") :]: value}
            continue
        if name in out and out[name] not in (None, "") and name != column:
            out[f"original_{name}"] = out.pop(
                name
            )  # unmapped columns go to metadata: kept, not dropped
        out[name] = value
    return out


# --- dates ----------------------------------------------------------------------------------------

# A numeric day/month/year (or month/day/year) date not preceded by a 4-digit year.
_NUMERIC_DATE = re.compile(r"(?<![\d/.-])(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})(?![\d/.-])")
_HAS_TIME = re.compile(
    r"(?<![\d/.-])\d{1,2}[:.]\d{2}(?![\d/.-]*\d)|\b\d{1,2}\s*[ap]\.?\s?m\b", re.I
)
_HAS_YEAR = re.compile(r"\b\d{4}\b")
DAYFIRST, MONTHFIRST = "dayfirst", "monthfirst"


def parse_timezone(value: str) -> tzinfo:
    """A --timezone value: an IANA name (Asia/Jakarta), an offset (+07:00) or a news abbreviation
    (WIB)."""
    from newsclf.collect.dates import ZONES

    text = value.strip()
    m = re.fullmatch(r"(?:UTC|GMT)?\s*([+-])(\d{1,2}):?(\d{2})?", text, re.I)
    if m:
        hours, minutes = int(m.group(2)), int(m.group(3) or 0)
        if hours <= 14 and minutes < 60:
            sign = 1 if m.group(1) == "+" else -1
            return timezone(sign * timedelta(hours=hours, minutes=minutes))
    if text.lower() in ZONES:
        return ZONES[text.lower()]
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(text)
    except (ValueError, KeyError, OSError):  # ZoneInfoNotFoundError is a KeyError
        raise InputError(
            f"unknown time zone {value!r}; give a name such as Asia/Jakarta or Europe/London, "
            "an offset such as +07:00, or WIB"
        ) from None


def _is_iso(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _numeric_order(value: str, order: str | None) -> str:
    """value with a numeric D/M/Y or M/D/Y date rewritten as YYYY-MM-DD, by order or by which
    reading is possible."""
    m = _NUMERIC_DATE.search(value)
    if not m:
        return value
    a, b, year = int(m.group(1)), int(m.group(3)), int(m.group(4))
    if len(m.group(4)) == 2:
        year += 2000 if year < 70 else 1900
    if order is None:
        if a <= 12 and b <= 12 and a != b:
            raise InputError(
                f"published {value!r} is ambiguous: {a} {_month(b)} or {b} {_month(a)}? "
                "pass --dayfirst (12/05 is 12 May) or --monthfirst (12/05 is December 5)"
            )
        order = MONTHFIRST if b > 12 else DAYFIRST
    day, month = (a, b) if order == DAYFIRST else (b, a)
    if not 1 <= month <= 12:
        raise InputError(
            f"published {value!r} has no month {month} when read "
            f"{'day' if order == DAYFIRST else 'month'} first; check --dayfirst/--monthfirst"
        )
    return value[: m.start()] + f"{year:04d}-{month:02d}-{day:02d}" + value[m.end() :]


def _month(n: int) -> str:
    return (
        (
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        )[n - 1]
        if 1 <= n <= 12
        else f"month {n}"
    )


def normalize_date(value: str, order: str | None = None, tz: tzinfo | None = None) -> str:
    """A date string as ISO 8601: ISO as given (zone added to a naive one by `tz`), other forms
    parsed.

    `12/05/2023`, `12.05.2023`: day or month first by `order` (DAYFIRST/MONTHFIRST), needed only
    when
    both readings are possible. `May 12, 2023`, `12 Mei 2023 07:45 WIB`: by newsclf.collect.dates.
    A date without a time stays a date. InputError says what to write instead.
    """
    from newsclf.collect.dates import parse_date

    text = " ".join(value.split())
    iso = _is_iso(text)
    if iso is not None:
        if tz is not None and iso.tzinfo is None and ("T" in text or " " in text):
            return iso.replace(tzinfo=tz).isoformat()
        return text
    if not _HAS_YEAR.search(text) and not _NUMERIC_DATE.search(text):
        # "3 hours ago", "kemarin": relative to when it was written, which a file does not say.
        raise InputError(
            f"published {value!r} is not a date with a year; write e.g. 2023-05-12T07:45:00+07:00"
        )
    dt = parse_date(_numeric_order(text, order), default_tz=tz)
    if dt is None:
        raise InputError(
            f"published {value!r} is not a date newsclf reads; write ISO 8601 such as"
            " 2023-05-12T07:45:00+07:00, or forms like 12/05/2023, May 12, 2023, 12 Mei 2023"
            " 07:45 WIB"
        )
    if not _HAS_TIME.search(text):
        return dt.date().isoformat()
    return dt.isoformat()


# --- outlets --------------------------------------------------------------------------------------


def outlet_key(name: str) -> str:
    """What two spellings of one outlet share: NFC, case folded, whitespace folded, no `www.` or
    scheme."""
    text = unicodedata.normalize("NFC", name).strip()
    text = re.sub(r"^(?:https?://)?(?:www\.)", "", text, flags=re.I).rstrip("/")
    return " ".join(text.casefold().split())


def tidy_outlet(name: str) -> str:
    """An outlet name with outer and repeated whitespace and a leading `www.` removed (case
    kept)."""
    text = unicodedata.normalize("NFC", name).strip()
    text = re.sub(r"^(?:https?://)?(?:www\.)", "", text, flags=re.I).rstrip("/")
    return " ".join(text.split())


@dataclass
class OutletNames:
    """Maps every spelling of an outlet to one canonical name: the aliases file's, else the first
    spelling seen."""

    aliases: dict[str, str] = field(default_factory=dict)  # outlet_key(alias) -> canonical name
    seen: dict[str, str] = field(default_factory=dict)  # outlet_key(name) -> first spelling seen

    def learn(self, names: Iterable[str]) -> None:
        """Take these spellings (e.g. the store's outlets) as canonical for their keys, unless
        aliased."""
        for name in names:
            if name:
                self.seen.setdefault(outlet_key(name), tidy_outlet(name))

    def canonical(self, name: str) -> str:
        """The canonical name for one spelling."""
        key = outlet_key(name)
        if key in self.aliases:
            return self.aliases[key]
        return self.seen.setdefault(key, tidy_outlet(name))


def load_outlet_aliases(path: str | Path) -> dict[str, str]:
    """An outlets file (CSV rows `alias,canonical`; a header row `alias,canonical` is allowed) as
    {key: canonical}."""
    aliases: dict[str, str] = {}
    with open(path, encoding="utf-8-sig", newline="") as fh:
        for lineno, row in enumerate(csv.reader(fh), 1):
            if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
                continue
            if lineno == 1 and [c.strip().lower() for c in row[:2]] == ["alias", "canonical"]:
                continue
            if len(row) != 2 or not row[0].strip() or not row[1].strip():
                raise InputError(
                    f"{path}:{lineno}: write one alias,canonical pair a line "
                    f"(e.g. daily planet,The Daily Planet); got {','.join(row)!r}"
                )
            canonical = tidy_outlet(row[1])
            aliases[outlet_key(row[0])] = canonical
            aliases.setdefault(outlet_key(canonical), canonical)
    return aliases


# --- all of it, per record ------------------------------------------------------------------------


@dataclass
class ReadOptions:
    """How to read researchers' files: encoding, CSV delimiter, column map, date order and zone,
    where notices go."""

    encoding: str | None = None
    delimiter: str | None = None
    column_map: dict[str, str] = field(default_factory=dict)
    date_order: str | None = None  # DAYFIRST, MONTHFIRST or None (only unambiguous numeric dates)
    timezone: tzinfo | None = None  # for naive dates
    on_notice: Callable[[str], None] | None = None  # one-line notices such as "read as cp1252"

    def prepare(self, data: Any) -> Any:
        """A parsed record with its columns mapped and its date made ISO 8601 (original kept);
        InputError if bad."""
        if not isinstance(data, dict):
            return data
        data = apply_column_map(data, self.column_map)
        published = data.get("published")
        if isinstance(published, str) and published.strip():
            iso = normalize_date(published, self.date_order, self.timezone)
            if iso != published:
                data["published"] = iso
                data["published_original"] = published  # not an Article field: it goes to metadata
        return data
