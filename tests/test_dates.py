"""parse_date: English and Indonesian date lines, zones, relative dates, and garbage."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsclf.collect.dates import parse_date

WIB = timezone(timedelta(hours=7))
WITA = timezone(timedelta(hours=8))
WIT = timezone(timedelta(hours=9))
NOW = datetime(2023, 5, 12, 10, 0, tzinfo=WIB)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2023-05-12T07:45:00+07:00", datetime(2023, 5, 12, 7, 45, tzinfo=WIB)),
        ("2023-05-12T00:45:00Z", datetime(2023, 5, 12, 0, 45, tzinfo=timezone.utc)),
        ("2023-05-12 07:45:00+0700", datetime(2023, 5, 12, 7, 45, tzinfo=WIB)),
        ("2023-05-12", datetime(2023, 5, 12)),
        ("Fri, 12 May 2023 07:45:00 +0700", datetime(2023, 5, 12, 7, 45, tzinfo=WIB)),
        ("Fri, 12 May 2023 00:45:00 GMT", datetime(2023, 5, 12, 0, 45, tzinfo=timezone.utc)),
        ("May 12, 2023 7:45 a.m.", datetime(2023, 5, 12, 7, 45)),
        ("May 12, 2023 7:45 p.m.", datetime(2023, 5, 12, 19, 45)),
        ("May 12, 2023 12:05 a.m.", datetime(2023, 5, 12, 0, 5)),
        ("Published 12 May 2023, 07:45", datetime(2023, 5, 12, 7, 45)),
        ("12 May 2023", datetime(2023, 5, 12)),
        (
            "Updated: May 12, 2023 at 7:45 pm BST",
            datetime(2023, 5, 12, 19, 45, tzinfo=timezone(timedelta(hours=1))),
        ),
        (
            "Dec 1, 2023 09:15 EST",
            datetime(2023, 12, 1, 9, 15, tzinfo=timezone(timedelta(hours=-5))),
        ),
        (
            "May 12, 2023 7:45 p.m. ET",
            datetime(2023, 5, 12, 19, 45, tzinfo=timezone(timedelta(hours=-4))),
        ),
        (
            "Jan 12, 2023 7:45 p.m. ET",
            datetime(2023, 1, 12, 19, 45, tzinfo=timezone(timedelta(hours=-5))),
        ),
        ("Jumat, 12 Mei 2023 07:45", datetime(2023, 5, 12, 7, 45)),
        ("Jumat, 12 Mei 2023 07:45 WIB", datetime(2023, 5, 12, 7, 45, tzinfo=WIB)),
        ("Jum'at, 12 Mei 2023 | 07:45 WIB", datetime(2023, 5, 12, 7, 45, tzinfo=WIB)),
        ("12/05/2023 07:45 WIB", datetime(2023, 5, 12, 7, 45, tzinfo=WIB)),
        ("Senin, 7 Agu 2023 19.30 WITA", datetime(2023, 8, 7, 19, 30, tzinfo=WITA)),
        ("3 Okt 2023 08:00 WIT", datetime(2023, 10, 3, 8, 0, tzinfo=WIT)),
        ("24 Des 2023", datetime(2023, 12, 24)),
        ("Rabu, 16 Agustus 2023 pukul 21.05 WIB", datetime(2023, 8, 16, 21, 5, tzinfo=WIB)),
        ("1 Februari 2023", datetime(2023, 2, 1)),
    ],
)
def test_absolute_dates(text, expected):
    assert parse_date(text) == expected
    assert (parse_date(text).tzinfo is None) == (expected.tzinfo is None)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2 jam yang lalu", NOW - timedelta(hours=2)),
        ("5 menit lalu", NOW - timedelta(minutes=5)),
        ("3 hours ago", NOW - timedelta(hours=3)),
        ("an hour ago", NOW - timedelta(hours=1)),
        ("2 hari lalu", NOW - timedelta(days=2)),
        ("kemarin", datetime(2023, 5, 11, tzinfo=WIB)),
        ("yesterday", datetime(2023, 5, 11, tzinfo=WIB)),
        ("kemarin 07:45", datetime(2023, 5, 11, 7, 45, tzinfo=WIB)),
    ],
)
def test_relative_dates(text, expected):
    assert parse_date(text, now=NOW) == expected


def test_default_tz_applies_only_when_no_zone_is_given():
    assert parse_date("Jumat, 12 Mei 2023 07:45", default_tz=WIB) == datetime(
        2023, 5, 12, 7, 45, tzinfo=WIB
    )
    assert parse_date("12 Mei 2023 07:45 WITA", default_tz=WIB).utcoffset() == timedelta(hours=8)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "garbage",
        "12 bananas 2023",
        "Reporter : Rina Mahendra",
        "31 Februari 2023",
        "Page 1 of 3",
        "1 dari 3 halaman",
        "99/99/2023",
        "May 12",
        "The 2023 budget was 45:12 in favour",
        "x" * 10_000,
        None,
        42,
    ],
)
def test_garbage_is_none(text):
    assert parse_date(text) is None


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_never_raises(text):
    result = parse_date(text)
    assert result is None or isinstance(result, datetime)
