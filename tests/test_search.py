"""Full-text search: results and counts agree with a brute-force scan of the demo corpus, in both
languages."""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections import Counter

import pytest
from conftest import CORPUS

from newsclf.article import Article
from newsclf.errors import InputError
from newsclf.records import import_file
from newsclf.search import Filters, to_match
from newsclf.store import Store


def words(text: str | None) -> list[str]:
    """unicode61 with remove_diacritics, by hand: case and accents folded, split on all but letters
    and digits."""
    folded = "".join(
        c
        for c in unicodedata.normalize("NFKD", (text or "").casefold())
        if not unicodedata.combining(c)
    )
    return re.findall(r"[^\W_]+", folded)


def phrase(tokens: list[str], *parts: str) -> bool:
    n = len(parts)
    return any(tuple(tokens[i : i + n]) == parts for i in range(len(tokens) - n + 1))


CAFE = Article(
    id="cafe",
    title="Café owners try a chatbot",
    text=(
        "The café on Jalan Merdeka now takes orders by chatbot. "
        "Pekerjanya bilang sistem itu sering salah."
    ),
    outlet="Kabar Nusa",
    lang="id",
    published="2023-05-02T08:00:00+07:00",
)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = Store(tmp_path_factory.mktemp("search") / "s.db")
    import_file(s, CORPUS / "articles.jsonl")
    s.add_article(CAFE)
    return s


@pytest.fixture(scope="module")
def corpus(store):
    return {
        a.id: (words(a.title), words(a.title) + words(a.text), a) for a in store.iter_articles()
    }


CASES = [  # (query, brute-force predicate over (title words, all words))
    ("upah AND pekerja*", lambda t, w: "upah" in w and any(x.startswith("pekerja") for x in w)),
    (
        "chatbot OR anotator*",
        lambda t, w: "chatbot" in w or any(x.startswith("anotator") for x in w),
    ),
    ("OpenAI NOT Microsoft", lambda t, w: "openai" in w and "microsoft" not in w),
    ("labelers chatbot", lambda t, w: "labelers" in w and "chatbot" in w),
    ('"kecerdasan buatan"', lambda t, w: phrase(w, "kecerdasan", "buatan")),
    (
        '"open letter" OR "surat terbuka"',
        lambda t, w: phrase(w, "open", "letter") or phrase(w, "surat", "terbuka"),
    ),
    ("title:chatbot", lambda t, w: "chatbot" in t),
    ("title:Musk AND OpenAI", lambda t, w: "musk" in t and "openai" in w),
    ("cafe", lambda t, w: "cafe" in w),  # Café, café: diacritics folded
    ("AI-generated", lambda t, w: phrase(w, "ai", "generated")),
    (
        "(wages OR upah) AND NOT title:OpenAI",
        lambda t, w: ("wages" in w or "upah" in w) and "openai" not in t,
    ),
]


@pytest.mark.parametrize("query, predicate", CASES)
def test_results_equal_a_brute_force_scan(store, corpus, query, predicate):
    expected = sorted(i for i, (t, w, _) in corpus.items() if predicate(t, w))
    assert store.search_ids(to_match(query)) == expected
    assert expected, f"{query!r} matches nothing in the corpus: a weak case"


@pytest.mark.parametrize("order", ["added", "date", "relevance"])
def test_pages_in_each_order_hold_every_match_once_with_snippets(store, order):
    query = "pekerja* OR upah OR title:chatbot"
    matching = set(store.search_ids(to_match(query)))
    by_rowid = [  # newest stored first, and for "date" newest published first (undated last)
        r[0]
        for r in store.conn.execute(
            "SELECT id FROM articles ORDER BY "
            + ("published IS NULL, published DESC, " if order == "date" else "")
            + "rowid DESC"
        )
        if r[0] in matching
    ]
    pages = [
        store.search_articles(to_match(query), limit=7, offset=start, order=order)
        for start in range(0, len(matching) + 7, 7)
    ]
    got = [h["id"] for page in pages for h in page]
    assert len(matching) > 14 and sorted(got) == sorted(matching)
    if order != "relevance":
        assert got == by_rowid
    assert all("\x02" in h["snippet"] + (h["title_marked"] or "") for page in pages for h in page)


def brute_counts(store, query, period, by_outlet=False, keep=lambda a: True):
    """Counts by period (and outlet) from every stored article: {(period, outlet?): (hits, n)}."""
    from datetime import date

    matching = set(store.search_ids(to_match(query)))
    hits, totals = Counter(), Counter()
    for a in store.iter_articles():
        if not keep(a):
            continue
        day = (a.published or "")[:10]
        key = (
            "undated"
            if a.published is None
            else day[:7]
            if period == "month"
            else date.fromisoformat(day).strftime("%Y-W%W")
            if period == "week"
            else day
        )
        key = (key, a.outlet or "") if by_outlet else (key,)
        totals[key] += 1
        hits[key] += a.id in matching
    return {k: (hits[k], totals[k]) for k in totals}


def got_counts(store, query, period, by_outlet=False, filters=None):
    rows = store.search_counts(to_match(query), period, by_outlet=by_outlet, filters=filters)
    cols = ("period", "outlet") if by_outlet else ("period",)
    return {tuple(r[c] for c in cols): (r["matching"], r["total"]) for r in rows}


COUNT_CASES = [  # (period, by outlet, filters, the same filters as a predicate)
    ("month", True, Filters(lang="id"), lambda a: a.lang == "id"),
    ("month", False, None, lambda a: True),
    (
        "week",
        False,
        Filters(since="2023-03-01"),
        lambda a: (a.published or "")[:10] >= "2023-03-01",
    ),
    ("day", True, Filters(outlets=("kabar nusa",)), lambda a: a.outlet == "Kabar Nusa"),
    (
        "month",
        False,
        Filters(until="2023-06-30", lang="en"),
        lambda a: a.lang == "en" and (a.published or "")[:10] <= "2023-06-30",
    ),
]


@pytest.mark.parametrize("period, by_outlet, filters, keep", COUNT_CASES)
def test_counts_by_period_equal_a_brute_force_scan(store, period, by_outlet, filters, keep):
    got = got_counts(store, "OpenAI OR pekerja*", period, by_outlet, filters)
    expected = brute_counts(store, "OpenAI OR pekerja*", period, by_outlet, keep)
    assert got == expected and any(h for h, _ in expected.values())


def test_counts_by_period_follow_inserts_updates_and_deletes(tmp_path):
    s = Store(tmp_path / "s.db")
    s.add_articles(
        [
            CAFE,
            Article(id="b", title="Upah", text="chatbot", outlet="Kabar Nusa", lang="id"),
            Article(
                id="c", title="x", text="chatbot", outlet=None, published="2023-05-30T10:00:00Z"
            ),
        ]
    )
    assert got_counts(s, "chatbot", "month", True) == brute_counts(s, "chatbot", "month", True)
    s.add_article(Article(**{**CAFE.__dict__, "published": "2023-07-01", "outlet": "Meridian"}))
    s.add_article(Article(id="b", title="Upah", text="gaji", outlet="Kabar Nusa", lang="en"))
    s.conn.execute("DELETE FROM articles WHERE id = 'c'")
    got = got_counts(s, "chatbot", "day", True)
    assert (
        got
        == brute_counts(s, "chatbot", "day", True)
        == {
            ("2023-07-01", "Meridian"): (1, 1),
            ("undated", "Kabar Nusa"): (0, 1),
        }
    )
    assert got_counts(s, "gaji", "month", False, Filters(lang="en")) == {("undated",): (1, 1)}
    s.conn.execute("DELETE FROM articles")
    assert got_counts(s, "chatbot", "month") == {}
    assert s.conn.execute("SELECT COUNT(*) FROM search_totals").fetchone()[0] == 0


def test_filters_narrow_to_exactly_their_articles(store, corpus):
    f = Filters(since="2023-03-01", until="2023-05-31", outlets=("kabar nusa", "Meridian Wire"))
    expected = sorted(
        i
        for i, (t, w, a) in corpus.items()
        if "chatbot" in w
        and "2023-03-01" <= (a.published or "")[:10] <= "2023-05-31"
        and (a.outlet or "").lower() in ("kabar nusa", "meridian wire")
    )
    assert store.search_ids(to_match("chatbot"), f) == expected and "cafe" in expected
    assert store.search_count(to_match("chatbot"), f) == len(expected)
    pages = [
        store.search_articles(to_match("chatbot"), f, limit=3, offset=i)
        for i in range(0, len(expected) + 3, 3)
    ]
    assert sorted(h["id"] for page in pages for h in page) == expected


def test_the_index_follows_updates_and_deletes(tmp_path):
    s = Store(tmp_path / "s.db")
    s.add_article(CAFE)
    assert s.search_ids(to_match("Merdeka")) == ["cafe"]
    s.add_article(Article(**{**CAFE.__dict__, "text": "The café moved to Jalan Sudirman."}))
    assert s.search_ids(to_match("Merdeka")) == [] and s.search_ids(to_match("Sudirman")) == [
        "cafe"
    ]
    s.conn.execute("DELETE FROM articles WHERE id = 'cafe'")
    assert s.search_ids(to_match("Sudirman")) == []


def test_a_store_from_before_the_index_gets_it_built_when_opened(tmp_path):
    import sqlite3

    from newsclf.store._schema import MIGRATIONS, SEARCH_MIGRATION, split_sql

    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    for number in range(SEARCH_MIGRATION - 1):
        for statement in split_sql(MIGRATIONS[number]):
            conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {SEARCH_MIGRATION - 1}")
    conn.execute(
        "INSERT INTO articles (id, title, text, content_hash, added_at) VALUES ('old', 'Old news',"
        " 'Anotator lama', 'h', 'x')"
    )
    conn.commit()
    conn.close()
    store = Store(path)
    assert store.search_ids(to_match("anotator")) == ["old"]
    assert got_counts(store, "anotator", "month") == {("undated",): (1, 1)}


def test_a_store_from_before_the_period_tables_gets_them_filled_when_opened(tmp_path):
    import sqlite3

    from newsclf.store._schema import FACETS_MIGRATION, MIGRATIONS, split_sql

    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    for number in range(FACETS_MIGRATION - 1):
        for statement in split_sql(MIGRATIONS[number]):
            conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {FACETS_MIGRATION - 1}")
    rows = [
        ("a", "2023-01-05T08:00:00Z", "Kabar Nusa", "id", "chatbot upah"),
        ("b", "2023-01-20", "Kabar Nusa", "id", "chatbot"),
        ("c", "2023-02-01T00:00:00+07:00", None, "en", "wages"),
        ("d", None, "Meridian Wire", None, "chatbot"),
    ]
    conn.executemany(
        "INSERT INTO articles (id, published, outlet, lang, title, text, content_hash, added_at) "
        "VALUES (?, ?, ?, ?, 't', ?, 'h', 'x')",
        rows,
    )
    conn.commit()
    conn.close()
    store = Store(path)
    assert store.schema_version == len(MIGRATIONS)
    assert got_counts(store, "chatbot", "month", True) == {
        ("2023-01", "Kabar Nusa"): (2, 2),
        ("2023-02", ""): (0, 1),
        ("undated", "Meridian Wire"): (1, 1),
    }
    assert got_counts(store, "chatbot", "week", filters=Filters(lang="id")) == brute_counts(
        store, "chatbot", "week", keep=lambda a: a.lang == "id"
    )


@pytest.mark.parametrize(
    "query, message",
    [
        ("", "the search query is empty"),
        ("OpenAI AND (wages", "opens a bracket it never closes"),
        ("wages)", "closes a bracket it never opened"),
        ("OpenAI AND", "AND at character 8 needs a term after it"),
        ("OR wages", "OR at character 1 needs a term before it"),
        ("NOT wages", "NOT at character 1 needs a term before it"),
        ("wages OR OR OpenAI", "OR at character 7 needs a term after it"),
        ("(wages OR) OpenAI", "OR at character 8 needs a term after it"),
        ("OpenAI title:", 'title: at character 8 needs a word or "phrase" after it'),
    ],
)
def test_malformed_queries_say_what_is_wrong(query, message):
    with pytest.raises(InputError, match=re.escape(message)):
        to_match(query)


def test_the_cli_lists_counts_and_refuses_a_bad_query(run, tmp_path):
    assert run("import", str(CORPUS / "articles.jsonl")).exit_code == 0
    r = run("search", "pekerja* AND upah", "--format", "jsonl", "--limit", "50")
    assert r.exit_code == 0, r.output
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert rows and all("[" in row["snippet"] for row in rows)
    r = run("search", "OpenAI", "--count-by", "month", "--format", "csv")
    table = list(csv.DictReader(io.StringIO(r.stdout)))
    assert sum(int(x["matching"]) for x in table) == len(
        run("search", "OpenAI", "--format", "jsonl", "--limit", "999").stdout.splitlines()
    )
    assert all(0 <= float(x["share"]) <= 1 for x in table)
    bad = run("search", "OpenAI AND")
    assert bad.exit_code == 2 and "not valid" in bad.output


def test_a_query_defines_the_population_of_suggestions_and_samples(run, tmp_path):
    assert run("import", str(CORPUS / "articles.jsonl")).exit_code == 0
    r = run("suggest", "--n", "5", "--query", "pekerja* OR upah", "--queue")
    assert r.exit_code == 0, r.output
    store = Store(tmp_path / "newsclf.db")
    population = set(store.search_ids(to_match("pekerja* OR upah")))
    seeds = {q["article_id"] for q in store.queued("seed")}
    assert len(seeds) == 5 and seeds <= population
    assert "population: the" in r.output
    from newsclf.label.queue import prepare

    added = prepare(store, 0, 4, 0, within=population)
    estimation = {q["article_id"] for q in store.queued("estimation")}
    assert added["estimation"] == 4 and estimation <= population and not estimation & seeds
    assert run("suggest", "--query", "wages AND (").exit_code == 2


def test_report_query_gives_shares_over_the_querys_articles_only_and_says_so(run, tmp_path):
    guide = CORPUS.parents[1] / "label_guides" / "ai-discourse.yaml"
    assert run("import", str(CORPUS / "articles.jsonl")).exit_code == 0
    for coder in ("coder_a", "coder_b", "adjudicated"):
        assert (
            run(
                "import", str(CORPUS / "labels" / f"{coder}.jsonl"), "--guide", str(guide)
            ).exit_code
            == 0
        )
    query = "pekerja* OR upah OR wages"
    population = set(Store(tmp_path / "newsclf.db").search_ids(to_match(query)))
    assert 5 < len(population) < 60
    r = run("report", "--guide", str(guide), "--by", "month", "--query", query, "--out", "rep")
    assert r.exit_code == 0, r.output
    assert f"population: the {len(population)} articles matching {query!r}" in r.output

    def table(folder: str, name: str) -> list[dict[str, str]]:
        with open(tmp_path / folder / "tables" / name, encoding="utf-8", newline="") as fh:
            return list(csv.DictReader(fh))

    behind = {row["id"] for row in table("rep", "drilldown.csv")}
    assert behind and behind <= population  # every number rests on the query's articles only
    assert {row["id"] for row in table("rep", "articles.csv")} == population
    gate = [
        row
        for row in table("rep", "coverage.csv")
        if row["scheme"] == "about_ai" and row["table"] == "time"
    ]
    assert 0 < sum(int(row["items"]) for row in gate if row["label"] == "yes") <= len(population)
    html = (tmp_path / "rep" / "report.html").read_text(encoding="utf-8")
    assert (
        f"the {len(population)} articles matching the search query" in html and "pekerja*" in html
    )
