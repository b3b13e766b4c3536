"""Hostile records: lone surrogates, deep nesting and over-long records cost one rejected (or
cleaned) record,
named by FILE:LINE, never the other lines (issue #35). Caps are small here; bench/hostile.py
measures big ones.
"""

from __future__ import annotations

import gzip
import io
import json

import pytest
from conftest import CORPUS, write_jsonl
from hypothesis import given, settings
from hypothesis import strategies as st

from newsclf.article import Article
from newsclf.batch.outputs import read_rows
from newsclf.batch.shards import output_files, run_batch
from newsclf.store import Store

GOOD = [
    {
        "id": "g1",
        "title": "Raters paid little",
        "text": "Workers who rate chatbot answers earn little.",
    },
    {"id": "g2", "title": "Chip deal", "text": "A chip maker signed a deal with a cloud firm."},
]
SURROGATE = (
    '{"id": "s1", "title": "Lone \\ud800 half", "text": "A lone \\udc00 surrogate", "metadata":'
    ' {"k\\ud801": "v"}}'
)
DEEP = json.dumps(
    {"id": "d1", "text": "deep", "metadata": {"x": json.loads("[" * 900 + "]" * 900)}}
)


def stored(tmp_path) -> dict[str, Article]:
    with Store(tmp_path / "newsclf.db") as store:
        return {a.id: a for a in store.iter_articles(store.article_ids())}


def test_a_lone_surrogate_is_replaced_and_every_line_imports(run, tmp_path):
    path = write_jsonl(tmp_path / "in.jsonl", [GOOD[0], SURROGATE, GOOD[1]])
    result = run("import", path)
    assert result.exit_code == 0, result.output
    articles = stored(tmp_path)
    assert sorted(articles) == ["g1", "g2", "s1"]
    assert (
        articles["s1"].text == "A lone \ufffd surrogate"
        and articles["s1"].title == "Lone \ufffd half"
    )
    assert articles["s1"].metadata["k\ufffd"] == "v"


def test_deep_nesting_is_refused_by_line_and_the_rest_imports(run, tmp_path):
    path = write_jsonl(tmp_path / "in.jsonl", [GOOD[0], DEEP, GOOD[1]])
    result = run("import", path)
    assert result.exit_code == 1
    assert f"{path}:2: a value nests deeper than 32 levels" in result.output
    assert "Traceback" not in result.output
    assert sorted(stored(tmp_path)) == ["g1", "g2"]


def test_an_article_built_in_code_with_a_surrogate_is_stored(tmp_path):
    """The collectors (collect, run) build Articles directly: the record cleans itself."""
    article = Article(url="https://x.example/a", title="T\udfff", text="body \ud83d only half")
    with Store(tmp_path / "s.db") as store:
        store.upsert_article(article)
        assert store.get_article(article.id).text == "body \ufffd only half"


def test_classify_and_batch_keep_every_valid_line(run, tmp_path, batch_model):
    path = write_jsonl(tmp_path / "in.jsonl", [GOOD[0], SURROGATE, DEEP, GOOD[1]])
    result = run("classify", "--model", batch_model, path, "--out", tmp_path / "out.jsonl")
    assert result.exit_code == 1 and f"{path}:3: a value nests deeper" in result.output
    assert [
        json.loads(line)["id"] for line in (tmp_path / "out.jsonl").read_text().splitlines()
    ] == ["g1", "s1", "g2"]

    summary = run_batch(batch_model, [path], tmp_path / "batch", workers=1)
    assert (summary.rows, summary.rejected, summary.failed) == (3, 1, [])
    assert sorted(r["id"] for p in output_files(tmp_path / "batch") for r in read_rows(p)) == [
        "g1",
        "g2",
        "s1",
    ]


def _long(n: int) -> dict:
    return {"id": "big", "text": "x" * n}


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz", ".json", ".json.gz", ".csv", ".csv.gz"])
def test_a_record_over_the_cap_is_skipped_by_line_and_its_neighbours_import(run, tmp_path, suffix):
    rows = [GOOD[0], _long(50_000), GOOD[1]]
    if suffix.startswith(".jsonl"):
        body = "".join(json.dumps(r) + "\n" for r in rows)
    elif suffix.startswith(".json"):
        body = "[" + ",\n".join(json.dumps(r) for r in rows) + "]\n"
    else:
        body = "id,title,text\n" + "".join(
            f"{r['id']},{r.get('title', '')},{r['text']}\n" for r in rows
        )
    path = tmp_path / f"in{suffix}"
    path.write_bytes(gzip.compress(body.encode()) if suffix.endswith(".gz") else body.encode())
    result = run("import", path, "--max-record-bytes", "10000")
    assert result.exit_code == 1
    line = 3 if suffix.startswith(".csv") else 2
    assert (
        f"{path}:{line}: the record is longer than 10,000 bytes (--max-record-bytes); it was"
        " skipped" in result.output
    )
    assert sorted(stored(tmp_path)) == ["g1", "g2"]
    assert (
        run("import", path).exit_code == 0
    )  # under the default cap (10 MB) the same record imports
    assert sorted(stored(tmp_path)) == ["big", "g1", "g2"]


def test_a_quoted_csv_cell_over_the_cap_is_reported(run, tmp_path):
    path = tmp_path / "in.csv"
    path.write_text('id,text\ng1,fine\nbig,"' + "word\n" * 3000 + '"\n', encoding="utf-8")
    result = run("import", path, "--max-record-bytes", "1000")
    assert (
        result.exit_code == 1
        and f"{path}:3: not valid CSV (field larger than field limit (1000))" in result.output
    )
    assert sorted(stored(tmp_path)) == ["g1"]


def test_batch_skips_an_over_long_line_with_its_number(tmp_path, batch_model):
    path = write_jsonl(tmp_path / "in.jsonl", [GOOD[0], _long(50_000), GOOD[1]])
    summary = run_batch(batch_model, [path], tmp_path / "batch", workers=1, max_record_bytes=10_000)
    assert (summary.rows, summary.rejected) == (2, 1)
    assert any("line 2: the record is longer than 10,000 bytes" in e for e in summary.examples)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='ab"\\\n,[]{} é'),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(
    items=st.lists(json_values, max_size=6),
    chunk=st.integers(1, 9),
    indent=st.sampled_from([None, 1]),
)
def test_the_streaming_array_reader_reads_what_json_reads(items, chunk, indent):
    import newsclf.records as records

    old, records._CHUNK = records._CHUNK, chunk  # tiny chunks: strings and escapes split everywhere
    try:
        got = list(records._json_records(io.StringIO(json.dumps(items, indent=indent)), 10_000))
    finally:
        records._CHUNK = old
    assert [error for _, _, error in got] == [None] * len(items)
    assert [item for _, item, _ in got] == items


GOOD_PAGE = (
    CORPUS
    / "site"
    / json.loads((CORPUS / "articles.jsonl").read_text(encoding="utf-8").splitlines()[0])[
        "metadata"
    ]["path"]
)
ATTRIBUTE_BOMB = (
    "<html><body>\n<article><div "
    + " ".join(f'data-a{i}="<x>"' for i in range(25_000))
    + "><p>"
    + "Workers who rate chatbot answers earn little. " * 5
    + "</p></div></article></body></html>"
)
SPREAD_BOMB = (
    "<html><body>"
    + "".join("<div " + " ".join(f"a{i}" for i in range(12_000)) + ">x</div>\n" for _ in range(4))
    + "</body></html>"
)
ELEMENT_BOMB = (
    "<html><body><article><p>Text.</p>" + "<b>x</b>" * 70_000 + "</article></body></html>"
)


def test_hostile_pages_are_refused_before_parsing_and_the_pass_goes_on(run, tmp_path, local_server):
    """Issue #35: 200,000 attributes on one <div> hung `collect --html` for minutes in lxml (25,000
    here)."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "a-good.html").write_bytes(GOOD_PAGE.read_bytes())
    (site / "attributes.html").write_text(ATTRIBUTE_BOMB, encoding="utf-8")
    (site / "elements.html").write_text(ELEMENT_BOMB, encoding="utf-8")
    (site / "spread.html").write_text(SPREAD_BOMB, encoding="utf-8")
    result = run("collect", "--html", site)
    assert result.exit_code == 1 and "new 1," in result.output
    assert (
        "attributes.html: line 2: a <div> tag has 25,000 attributes (more than 20,000); not parsed"
        in result.output
    )
    assert (
        "spread.html: line 3: a <div> tag has 12,000 attributes (too many with the tags before it)"
        in result.output
    )
    assert "elements.html: the page has more than 60,000 elements; not parsed" in result.output

    local_server.serve_dir("/", site)
    urls = [local_server.url(f"/{name}") for name in ("attributes.html", "a-good.html")]
    result = run("collect", *urls, "--min-interval", "0", db=tmp_path / "net.db")
    assert (
        result.exit_code == 1
        and "new 1," in result.output
        and "a <div> tag has 25,000 attributes" in result.output
    )


def corpus_pages(n: int) -> list[tuple[str, bytes]]:
    """The first n demo articles' first pages as (url, html bytes)."""
    articles = [
        json.loads(line)
        for line in (CORPUS / "articles.jsonl").read_text(encoding="utf-8").splitlines()[:n]
    ]
    return [(a["url"], (CORPUS / "site" / a["metadata"]["path"]).read_bytes()) for a in articles]


def warc_members(path) -> list[bytes]:
    """The records of a WARC written by write_warc, as raw bytes (gzip members, or plain
    records)."""
    from warcio.archiveiterator import ArchiveIterator

    data = path.read_bytes()
    with open(path, "rb") as fh:
        it = ArchiveIterator(fh)
        offsets = [it.get_record_offset() for _ in it]
    return [data[a:b] for a, b in zip(offsets, offsets[1:] + [len(data)], strict=True)]


@pytest.mark.parametrize(
    "damage", ["garbage.warc.gz", "garbage.warc", "bad-length.warc", "bad-length.warc.gz"]
)
def test_a_damaged_warc_record_is_skipped_and_the_rest_is_read(run, tmp_path, batch_model, damage):
    """Issue #35: garbage between records lost the rest of the file; a bogus Content-Length lost all
    of it."""
    from newsclf.batch.inputs import write_warc

    clean = tmp_path / ("clean.warc.gz" if damage.endswith(".gz") else "clean.warc")
    write_warc(clean, corpus_pages(4))
    members = warc_members(clean)
    if damage.startswith("garbage"):
        members.insert(1, b"\x00garbage from a broken copy\nWARC/0.9 not a record\n" * 50)
        lost = 0
    else:
        raw = gzip.decompress(members[1]) if damage.endswith(".gz") else members[1]
        raw = raw.replace(
            b"Content-Length: ", b"Content-Length: 9", 1
        )  # claims far more than it holds
        members[1] = gzip.compress(raw) if damage.endswith(".gz") else raw
        lost = 1  # that record's own block cannot be trusted: skipped
    path = tmp_path / damage
    path.write_bytes(b"".join(members))
    result = run("batch", "--model", batch_model, path, "--out", tmp_path / "out", "--workers", "1")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert (
        f"warning: {path}: 1 damaged part(s) of the WARC file skipped, the records around them"
        " read: bytes " in result.output
    )
    assert "strict" not in result.output  # the old warning named an option no command has
    assert (
        f"{4 - lost} classified" in result.output
        and "1 damaged WARC parts skipped" in result.output
    )


def test_a_warc_body_is_read_up_to_the_page_cap(tmp_path):
    from newsclf.batch.inputs import write_warc
    from newsclf.collect.warc import iter_warc

    path = tmp_path / "big.warc.gz"
    pages = corpus_pages(2)
    write_warc(
        path,
        [
            pages[0],
            ("https://big.example/a", b"<html><body><p>" + b"x" * 200_000 + b"</p></body></html>"),
            pages[1],
        ],
    )
    read = list(iter_warc(path, max_body=10_000))
    assert [(len(p.body), p.truncated) for p in read] == [
        (len(pages[0][1]), False),
        (10_000, True),
        (len(pages[1][1]), False),
    ]


def test_annotation_imports_cap_each_task_too(run, tmp_path):
    from conftest import GUIDE

    task = {
        "data": {"id": "t1", "text": "Workers who rate chatbot answers earn little."},
        "annotations": [
            {
                "completed_by": 1,
                "result": [
                    {"type": "choices", "from_name": "topics", "value": {"choices": ["labor"]}}
                ],
            }
        ],
    }
    big = {"data": {"id": "t2", "text": "x" * 50_000}}
    ls = tmp_path / "export.json"
    ls.write_text(
        json.dumps(
            [task, big, {**task, "data": {"id": "t3", "text": "Chip deal signed."}}], indent=1
        ),
        encoding="utf-8",
    )
    result = run(
        "annotations",
        "import",
        ls,
        "--format",
        "label-studio",
        "--guide",
        GUIDE,
        "--max-record-bytes",
        "10000",
    )
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert (
        f"{ls}: task 2: line " in result.output
        and "the record is longer than 10,000 bytes" in result.output
    )
    assert "articles: 2 new" in result.output

    prodigy = write_jsonl(
        tmp_path / "p.jsonl",
        [
            {"text": "Workers earn little.", "accept": ["labor"], "answer": "accept"},
            {"text": "x" * 50_000},
        ],
    )
    result = run(
        "annotations",
        "import",
        prodigy,
        "--format",
        "prodigy",
        "--guide",
        GUIDE,
        "--scheme",
        "topics",
        "--max-record-bytes",
        "10000",
    )
    assert f"{prodigy}:2: the record is longer than 10,000 bytes" in result.output


MANY_TAGS = "<p>" * 60_001


@pytest.mark.parametrize(
    "html, refused",
    [
        (MANY_TAGS, True),
        (f"<!-- {MANY_TAGS} -->", False),  # a comment is not markup
        (f"<!-- never closed {MANY_TAGS}", False),
        (f"<script>{MANY_TAGS}</script>", False),  # nor is raw text
        (f"<SCRIPT type='x'>{MANY_TAGS}</Script >", False),
        (f"<style>{MANY_TAGS}", False),  # unclosed: the rest of the page is its text
        (f"<scripts>{MANY_TAGS}", True),  # another tag's name
        (f"<p title='<script>'>{MANY_TAGS}", True),  # a quoted value is not a tag
        (f"<script>x</script>{MANY_TAGS}", True),
    ],
)
def test_the_parse_budget_counts_tags_outside_comments_and_raw_text(html, refused):
    from newsclf.collect.budget import html_budget

    assert (html_budget(html) is not None) == refused
