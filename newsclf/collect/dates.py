"""Dates as news pages print them, in English and Indonesian, parsed to datetimes.

`parse_date` reads ISO 8601, RFC 2822, English date lines ("May 12, 2023 7:45 a.m.",
"Published 12 May 2023, 07:45"), Indonesian ones ("Jumat, 12 Mei 2023 07:45 WIB",
"12/05/2023 07:45 WIB"), and relative dates ("2 jam yang lalu", "3 hours ago", "kemarin").
It keeps the minute, returns an aware datetime when a zone is known (or `default_tz` is given)
and a naive one otherwise, and returns None on anything it cannot read; it never raises.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone, tzinfo
from email.utils import parsedate_to_datetime

# Zone abbreviations that news pages print. US zones are given their standard/daylight offsets.
ZONES: dict[str, timezone] = {
    "wib": timezone(timedelta(hours=7)),
    "wita": timezone(timedelta(hours=8)),
    "wit": timezone(timedelta(hours=9)),
    "utc": timezone.utc,
    "gmt": timezone.utc,
    "z": timezone.utc,
    "bst": timezone(timedelta(hours=1)),
    "cet": timezone(timedelta(hours=1)),
    "cest": timezone(timedelta(hours=2)),
    "est": timezone(timedelta(hours=-5)),
    "edt": timezone(timedelta(hours=-4)),
    "cst": timezone(timedelta(hours=-6)),
    "cdt": timezone(timedelta(hours=-5)),
    "mst": timezone(timedelta(hours=-7)),
    "mdt": timezone(timedelta(hours=-6)),
    "pst": timezone(timedelta(hours=-8)),
    "pdt": timezone(timedelta(hours=-7)),
    "sgt": timezone(timedelta(hours=8)),
    "jst": timezone(timedelta(hours=9)),
    "aest": timezone(timedelta(hours=10)),
    "ist": timezone(timedelta(hours=5, minutes=30)),
}
# "ET"/"PT" without S/D: the offset depends on the date (US daylight time), resolved below.
US_GENERIC = {"et": (-5, -4), "ct": (-6, -5), "mt": (-7, -6), "pt": (-8, -7)}

MONTHS: dict[str, int] = {}
for _num, _names in enumerate(
    [
        ("january", "jan", "januari"),
        ("february", "feb", "februari", "pebruari", "peb"),
        ("march", "mar", "maret"),
        ("april", "apr"),
        ("may", "mei"),
        ("june", "jun", "juni"),
        ("july", "jul", "juli"),
        ("august", "aug", "agustus", "agu", "agt", "ags", "agst"),
        ("september", "sep", "sept"),
        ("october", "oct", "oktober", "okt"),
        ("november", "nov", "nopember", "nop"),
        ("december", "dec", "desember", "des"),
    ],
    1,
):
    for _name in _names:
        MONTHS[_name] = _num

WEEKDAYS = (
    "monday|mon|tuesday|tue|tues|wednesday|wed|thursday|thu|thur|thurs|friday|fri|saturday|sat|"
    "sunday|sun|senin|selasa|rabu|kamis|jumat|jum'at|jum’at|sabtu|minggu|ahad"
)
FILLER = re.compile(
    r"\b(?:"
    + WEEKDAYS
    + r"|published|updated|posted|last updated|diterbitkan|diperbarui|dipublikasikan|"
    r"tanggal|pukul|jam|at|on|the|of|de)\b\.?",
    re.I,
)

_MONTH_RE = "|".join(sorted(MONTHS, key=len, reverse=True))
DMY_NAME = re.compile(
    rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\.?\s*(?:-|\s)?\s*({_MONTH_RE})\.?,?\s*(?:-|\s)?\s*(\d{{4}})\b",
    re.I,
)
MDY_NAME = re.compile(rf"\b({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", re.I)
YMD_NUM = re.compile(r"\b(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\b")
DMY_NUM = re.compile(r"\b(\d{1,2})[-/.](\d{1,2})[-/.](\d{4}|\d{2})\b")
TIME = re.compile(
    r"(?<![\d/.-])(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?(?:\s*([ap])\.?\s?m\b\.?)?", re.I
)
TIME_HOUR_ONLY = re.compile(r"(?<![\d:])(\d{1,2})\s*([ap])\.?\s?m\b\.?", re.I)
NUM_OFFSET = re.compile(r"(?:\b(?:utc|gmt))?\s*([+-])(\d{1,2})(?::?(\d{2}))?\s*$", re.I)
NAMED_ZONE = re.compile(
    r"\(?\b("
    + "|".join(sorted(list(ZONES) + list(US_GENERIC), key=len, reverse=True))
    + r")\b\)?\s*$",
    re.I,
)

REL_UNITS = {
    "detik": "seconds",
    "second": "seconds",
    "seconds": "seconds",
    "sec": "seconds",
    "secs": "seconds",
    "menit": "minutes",
    "minute": "minutes",
    "minutes": "minutes",
    "min": "minutes",
    "mins": "minutes",
    "jam": "hours",
    "hour": "hours",
    "hours": "hours",
    "hr": "hours",
    "hrs": "hours",
    "hari": "days",
    "day": "days",
    "days": "days",
    "minggu": "weeks",
    "pekan": "weeks",
    "week": "weeks",
    "weeks": "weeks",
}
REL_WORDNUM = {
    "a": 1,
    "an": 1,
    "one": 1,
    "se": 1,
    "satu": 1,
    "dua": 2,
    "two": 2,
    "tiga": 3,
    "three": 3,
}
RELATIVE = re.compile(
    r"^(?:about\s+|sekitar\s+)?(\d+|an?|one|two|three|se|satu|dua|tiga)\s*("
    + "|".join(REL_UNITS)
    + r")\s+(?:yang\s+)?(?:lalu|ago)$",
    re.I,
)
YESTERDAY = re.compile(r"^(kemarin|yesterday)\b[\s,]*(.*)$", re.I)
TODAY = re.compile(r"^(hari ini|today)\b[\s,]*(.*)$", re.I)
JUST_NOW = re.compile(r"^(baru saja|just now|sekarang|now)$", re.I)

MAX_LEN = 200


def parse_date(
    text: str, default_tz: tzinfo | None = None, now: datetime | None = None
) -> datetime | None:
    """Parse a date line; None when it holds no readable date. Never raises."""
    try:
        return _parse(text, default_tz, now)
    except (ValueError, OverflowError, TypeError, IndexError, KeyError):
        return None


def _parse(text: str, default_tz: tzinfo | None, now: datetime | None) -> datetime | None:
    if not isinstance(text, str):
        return None
    s = " ".join(text.replace("\xa0", " ").split())
    if not s or len(s) > MAX_LEN:
        return None

    relative = _relative(s, default_tz, now)
    if relative is not None:
        return relative

    iso = _iso(s)
    if iso is not None:
        return _with_default(iso, default_tz)

    if re.match(
        r"^(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{2,4}\s+\d{1,2}:\d{2}(?::\d{2})?\s*(?:[+-]\d{4}|[A-Z]{1,5})?$",
        s,
    ):
        try:
            dt = parsedate_to_datetime(s)
        except (TypeError, ValueError, IndexError):
            dt = None
        if dt is not None:
            if dt.tzinfo is None and default_tz is not None:
                dt = dt.replace(tzinfo=default_tz)
            return dt

    return _free_form(s, default_tz)


def _with_default(dt: datetime, default_tz: tzinfo | None) -> datetime:
    if dt.tzinfo is None and default_tz is not None:
        return dt.replace(tzinfo=default_tz)
    return dt


def _iso(s: str) -> datetime | None:
    if not re.match(
        r"^\d{4}-\d{2}-\d{2}(?:[T"
        r" ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)?\s*(?:Z|[+-]\d{2}:?\d{2}|[+-]\d{2})?$",
        s,
        re.I,
    ):
        return None
    t = s.replace(" ", "T", 1) if re.match(r"^\d{4}-\d{2}-\d{2} \d", s) else s
    t = t.replace(" ", "")
    if t[-1:] in "zZ":
        t = t[:-1] + "+00:00"
    m = re.search(r"([+-])(\d{2})(\d{2})$", t)
    if m and "T" in t:
        t = t[: m.start()] + f"{m.group(1)}{m.group(2)}:{m.group(3)}"
    elif re.search(r"T.*[+-]\d{2}$", t):
        t += ":00"
    t = t.replace(",", ".")
    return datetime.fromisoformat(t)


def _now(now: datetime | None, default_tz: tzinfo | None) -> datetime:
    if now is not None:
        return now
    return datetime.now(default_tz or timezone.utc)


def _relative(s: str, default_tz: tzinfo | None, now: datetime | None) -> datetime | None:
    low = s.lower().strip(" .")
    m = RELATIVE.match(low)
    if m:
        n_text, unit = m.group(1), REL_UNITS[m.group(2)]
        n = int(n_text) if n_text.isdigit() else REL_WORDNUM[n_text]
        if n > 100000:
            return None
        base = _now(now, default_tz)
        return (base - timedelta(**{unit: n})).replace(microsecond=0)
    if JUST_NOW.match(low):
        return _now(now, default_tz).replace(microsecond=0)
    for pattern, days in ((YESTERDAY, 1), (TODAY, 0)):
        m = pattern.match(low)
        if m:
            base = _now(now, default_tz) - timedelta(days=days)
            rest = m.group(2).strip()
            if not rest:
                return base.replace(hour=0, minute=0, second=0, microsecond=0)
            tm = TIME.search(rest)
            if not tm:
                return None
            hour, minute, second = _clock(tm)
            return base.replace(hour=hour, minute=minute, second=second, microsecond=0)
    return None


def _clock(m: re.Match) -> tuple[int, int, int]:
    hour, minute = int(m.group(1)), int(m.group(2))
    second = int(m.group(3)) if m.group(3) else 0
    ampm = (m.group(4) or "").lower()
    if ampm:
        if not 1 <= hour <= 12:
            raise ValueError("bad 12-hour clock")
        hour = hour % 12 + (12 if ampm == "p" else 0)
    return hour, minute, second


def _zone(s: str) -> tuple[str, tzinfo | None, str | None]:
    """Split a trailing zone off: (rest, tzinfo or None, generic US zone name or None)."""
    m = NUM_OFFSET.search(s)
    # A bare "-2023" or "-05" ending a date is not an offset; require a time before it or a UTC/GMT
    # prefix.
    if m and (
        re.search(r"(utc|gmt)\s*[+-]\d", s[m.start() :], re.I)
        or re.search(r"\d[:.]\d{2}(?:[:.]\d{2})?\s*$", s[: m.start()])
    ):
        hours, minutes = int(m.group(2)), int(m.group(3) or 0)
        if hours <= 14 and minutes < 60:
            sign = 1 if m.group(1) == "+" else -1
            return (
                s[: m.start()].rstrip(" ,"),
                timezone(sign * timedelta(hours=hours, minutes=minutes)),
                None,
            )
    m = NAMED_ZONE.search(s)
    if m:
        name = m.group(1).lower()
        rest = s[: m.start()].rstrip(" ,")
        if name in US_GENERIC:
            return rest, None, name
        return rest, ZONES[name], None
    return s, None, None


def _us_offset(name: str, naive: datetime) -> timezone:
    """US Eastern/Central/Mountain/Pacific: daylight time from the 2nd Sunday of March to the 1st of
    November."""
    std, dst = US_GENERIC[name]
    year = naive.year
    march = datetime(year, 3, 8)
    start = march + timedelta(days=(6 - march.weekday()) % 7, hours=2)
    nov = datetime(year, 11, 1)
    end = nov + timedelta(days=(6 - nov.weekday()) % 7, hours=2)
    return timezone(timedelta(hours=dst if start <= naive < end else std))


def _free_form(s: str, default_tz: tzinfo | None) -> datetime | None:
    rest, tz, generic = _zone(s)
    work = rest
    date = None
    for pattern, order in (
        (DMY_NAME, "dmy"),
        (MDY_NAME, "mdy"),
        (YMD_NUM, "ymd"),
        (DMY_NUM, "dmy_num"),
    ):
        m = pattern.search(work)
        if not m:
            continue
        a, b, c = m.groups()
        if order == "dmy":
            day, month, year = int(a), MONTHS[b.lower()], int(c)
        elif order == "mdy":
            month, day, year = MONTHS[a.lower()], int(b), int(c)
        elif order == "ymd":
            year, month, day = int(a), int(b), int(c)
        else:
            first, second, year = int(a), int(b), int(c)
            if year < 100:
                year += 2000 if year < 70 else 1900
            # Day first (Indonesian and most of the world) unless only month-first is possible.
            if first <= 12 < second:
                month, day = first, second
            else:
                day, month = first, second
        date = (year, month, day)
        work = work[: m.start()] + " " + work[m.end() :]
        break
    if date is None:
        return None
    leftover = work
    hour = minute = second = 0
    tm = TIME.search(work)
    if tm:
        hour, minute, second = _clock(tm)
        leftover = work[: tm.start()] + " " + work[tm.end() :]
    else:
        th = TIME_HOUR_ONLY.search(work)
        if th:
            h = int(th.group(1))
            if not 1 <= h <= 12:
                return None
            hour = h % 12 + (12 if th.group(2).lower() == "p" else 0)
            leftover = work[: th.start()] + " " + work[th.end() :]
    # Whatever is left must be filler (weekday names, "Published", punctuation), not other words.
    leftover = FILLER.sub(" ", leftover)
    if re.search(r"[^\W\d_]{2,}", leftover) or re.search(r"\d", leftover):
        return None
    dt = datetime(date[0], date[1], date[2], hour, minute, second)
    if not 1800 <= dt.year <= 2200:
        return None
    if generic:
        return dt.replace(tzinfo=_us_offset(generic, dt))
    if tz is not None:
        return dt.replace(tzinfo=tz)
    return _with_default(dt, default_tz)
