from __future__ import annotations

import io
import string
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsclf.article import (
    Article,
    canonicalize_url,
    id_from_url,
    read_csv,
    read_jsonl,
    write_csv,
    write_jsonl,
)
from newsclf.errors import InputError

text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=200)
opt_text = st.one_of(
    st.none(), st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)
)
iso = st.one_of(
    st.none(),
    st.datetimes(
        min_value=datetime(1990, 1, 1),
        max_value=datetime(2100, 1, 1),
        timezones=st.one_of(st.none(), st.timezones()),
    ).map(lambda d: d.isoformat()),
)
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(10**9), 10**9), text),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
articles = st.builds(
    Article,
    id=st.text(string.ascii_letters + string.digits + "-_", min_size=1, max_size=20),
    url=st.one_of(
        st.none(), st.from_regex(r"https://[a-z]{1,10}\.example/[a-z0-9/]{0,20}", fullmatch=True)
    ),
    outlet=opt_text,
    title=opt_text,
    authors=st.lists(text.filter(bool), max_size=3),
    published=iso,
    lang=st.sampled_from([None, "en", "id", "pt-BR"]),
    text=text,
    pages=st.integers(1, 9),
    fetched_at=iso,
    metadata=st.dictionaries(st.text(max_size=10), json_values, max_size=4),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(articles, max_size=5))
def test_jsonl_round_trip_is_lossless(items):
    buf = io.StringIO()
    write_jsonl(items, buf)
    assert list(read_jsonl(io.StringIO(buf.getvalue()))) == items


@settings(max_examples=150, deadline=None)
@given(st.lists(articles, max_size=5))
def test_csv_round_trip_is_lossless(items):
    buf = io.StringIO(newline="")
    write_csv(items, buf)
    assert list(read_csv(io.StringIO(buf.getvalue(), newline=""))) == items


def test_id_is_derived_from_canonical_url_and_stable():
    a = Article(url="https://Example.com:443/news/story?utm_source=x&b=2&a=1#top", text="x")
    b = Article(url="https://example.com/news/story?a=1&b=2", text="different text")
    assert a.canonical_url == "https://example.com/news/story?a=1&b=2"
    assert a.id == b.id == id_from_url("https://example.com/news/story?a=1&b=2")


def test_content_hash_ignores_layout_but_not_words():
    a = Article(id="1", title="T", text="Hello   world\n\nagain")
    b = Article(id="2", title="t", text="hello world again")
    c = Article(id="3", title="t", text="hello world, again")
    assert a.content_hash == b.content_hash != c.content_hash


def test_published_keeps_time_zone():
    a = Article(
        id="x",
        text="t",
        published=datetime(2023, 5, 12, 7, 45, tzinfo=timezone(timedelta(hours=7))),
    )
    assert a.published == "2023-05-12T07:45:00+07:00"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"published": "12 Mei 2023"}, "not an ISO 8601 date"),
        ({"pages": 0}, "pages must be"),
        ({"authors": [1]}, "authors must be a list of strings"),
        ({"text": None}, "text must be a string"),
    ],
)
def test_bad_fields_raise_clear_input_errors(kwargs, message):
    with pytest.raises(InputError, match=message):
        Article(id="x", **({"text": "t"} | kwargs))


def test_canonical_url_drops_tracking_and_fragment():
    assert (
        canonicalize_url("HTTP://News.Example:80/a?fbclid=1&id=7#c") == "http://news.example/a?id=7"
    )


def test_invalid_url_is_an_input_error():
    with pytest.raises(InputError, match="not a valid URL"):
        Article(url="https://host:port/x", text="t")
