"""`newsclf export` filters: outlet, publication days, language, final label; JSONL, CSV and Parquet
alike."""

from __future__ import annotations

import csv
import json

import pyarrow.parquet as pq
import pytest
from conftest import GUIDE, write_jsonl

from newsclf.store import Store

ARTICLES = [
    {
        "id": "k1",
        "text": "Pekerja pelabel data menuntut upah layak.",
        "outlet": "Kabar Nusa",
        "lang": "id",
        "published": "2023-06-30T23:30:00+07:00",
    },
    {
        "id": "k2",
        "text": "Regulator membuka penyelidikan atas chatbot.",
        "outlet": "kabar nusa",
        "lang": "id",
        "published": "2023-07-01",
    },
    {
        "id": "h1",
        "text": "Lawmakers voted on the AI act.",
        "outlet": "The Harbor Ledger",
        "lang": "en",
        "published": "2023-07-15T09:00:00+00:00",
    },
    {
        "id": "h2",
        "text": "The startup raised new funding.",
        "outlet": "The Harbor Ledger",
        "lang": "en",
    },
]
# k1: both coders say labor; k2: they disagree (a tie) and a reviewer decides regulation; h1: one
# coder.
LABELS = [
    {"id": "k1", "labels": {"topics": ["labor"]}, "labeler": "ana"},
    {"id": "k1", "labels": {"topics": ["labor"]}, "labeler": "budi"},
    {"id": "k2", "labels": {"topics": ["labor"]}, "labeler": "ana"},
    {"id": "k2", "labels": {"topics": ["safety"]}, "labeler": "budi"},
    {"id": "k2", "labels": {"topics": ["regulation"]}, "labeler": "rita", "gold": True},
    {"id": "h1", "labels": {"topics": ["regulation"]}, "labeler": "ana"},
]


@pytest.fixture
def store_path(run, tmp_path):
    assert run("import", write_jsonl(tmp_path / "a.jsonl", ARTICLES)).exit_code == 0
    result = run("import", write_jsonl(tmp_path / "l.jsonl", LABELS), "--guide", GUIDE)
    assert result.exit_code == 0, result.output
    path = tmp_path / "newsclf.db"
    with Store(path) as store:  # a model's prediction for the one article no coder labeled
        store.add_predictions(
            [("h2", "m1", "topics", "", {"industry": 0.9, "labor": 0.1}, ["industry"])]
        )
    return path


def ids_of(run, *args: str) -> list[str]:
    result = run("export", *args)
    assert result.exit_code == 0, result.output
    return sorted(json.loads(line)["id"] for line in result.stdout.splitlines())


@pytest.mark.parametrize(
    "args, expected",
    [
        ((), ["h1", "h2", "k1", "k2"]),
        (("--outlet", "KABAR NUSA"), ["k1", "k2"]),
        (("--outlet", "Kabar Nusa", "--outlet", "the harbor ledger"), ["h1", "h2", "k1", "k2"]),
        (("--since", "2023-07-01"), ["h1", "k2"]),
        (("--until", "2023-06-30"), ["k1"]),  # the day as written, not moved to UTC
        (("--since", "2023-07-01", "--until", "2023-07-01"), ["k2"]),
        (("--lang", "en"), ["h1", "h2"]),
        (("--guide", str(GUIDE), "--label", "topics=labor"), ["k1"]),  # majority
        (
            ("--guide", str(GUIDE), "--label", "topics=regulation"),
            ["h1", "k2"],
        ),  # gold beats the tie; one coder
        (
            ("--guide", str(GUIDE), "--label", "topics=industry"),
            ["h2"],
        ),  # predicted, where no coder was
        (("--guide", str(GUIDE), "--label", "topics=regulation", "--lang", "id"), ["k2"]),
    ],
)
def test_export_filters(run, store_path, args, expected):
    assert ids_of(run, *args) == expected


@pytest.mark.parametrize(
    "args, message",
    [
        (("--label", "topics=labor"), "--label needs --guide"),
        (("--guide", str(GUIDE), "--label", "topics"), "SCHEME=LABEL"),
        (("--guide", str(GUIDE), "--label", "topics=cooking"), "has no label 'cooking'"),
        (("--since", "1 July"), "YYYY-MM-DD"),
        (("--format", "parquet"), "needs --out"),
    ],
)
def test_bad_export_filters_are_usage_errors(run, store_path, args, message):
    result = run("export", *args)
    assert result.exit_code == 2 and message in result.stderr


def test_filters_apply_to_csv_and_parquet_too(run, store_path, tmp_path):
    args = ("--outlet", "Kabar Nusa", "--labels")
    assert run("export", *args, "--format", "csv", "--out", "k.csv").exit_code == 0
    with open(tmp_path / "k.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert sorted(r["id"] for r in rows) == ["k1", "k2"]
    assert run("export", *args, "--format", "parquet", "--out", "k.parquet").exit_code == 0
    table = pq.read_table(tmp_path / "k.parquet").to_pylist()
    assert sorted(r["id"] for r in table) == ["k1", "k2"]
    k2 = next(r for r in table if r["id"] == "k2")
    assert (
        k2["text"] == ARTICLES[1]["text"] and k2["outlet"] == "Kabar Nusa"
    )  # the first spelling seen
    assert len(json.loads(k2["annotations"])) == 3
    assert (
        run("export", "--lang", "fr", "--format", "parquet", "--out", "none.parquet").exit_code == 0
    )
    assert pq.read_table(tmp_path / "none.parquet").num_rows == 0


def test_flat_export_has_plain_columns_for_each_schemes_final_label(run, store_path, tmp_path):
    result = run("export", "--guide", GUIDE, "--flat", "--format", "csv", "--out", "flat.csv")
    assert result.exit_code == 0, result.output
    with open(tmp_path / "flat.csv", encoding="utf-8", newline="") as fh:
        rows = {r["id"]: r for r in csv.DictReader(fh)}
    assert (
        rows["k1"]["topics"],
        rows["k1"]["topics_source"],
        rows["k1"]["topics_probability"],
    ) == ("labor", "majority", "")
    assert (rows["k2"]["topics"], rows["k2"]["topics_source"]) == ("regulation", "gold")
    assert (rows["h1"]["topics"], rows["h1"]["topics_source"]) == ("regulation", "coder")
    assert (
        rows["h2"]["topics"],
        rows["h2"]["topics_source"],
        rows["h2"]["topics_probability"],
    ) == ("industry", "predicted", "0.9000")
    stance_columns = [
        c
        for c in rows["h2"]
        if c.startswith("stance_") and not c.endswith(("_source", "_probability"))
    ]
    assert stance_columns and all(rows["h2"][c] == "" for c in stance_columns)
    # An article coded for two stance targets: a column (with its source and probability) per
    # target.
    stance = write_jsonl(
        tmp_path / "s.jsonl",
        [
            {"id": "k1", "target": "OpenAI", "labels": {"stance": ["against"]}, "labeler": "ana"},
            {
                "id": "k1",
                "target": "AI regulation",
                "labels": {"stance": ["favor"]},
                "labeler": "ana",
                "gold": True,
            },
        ],
    )
    assert run("import", stance, "--guide", GUIDE).exit_code == 0
    result = run(
        "export", "--guide", GUIDE, "--flat", "--outlet", "Kabar Nusa", "--until", "2023-06-30"
    )
    (k1,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert (k1["stance_ai_regulation"], k1["stance_ai_regulation_source"]) == ("favor", "gold")
    assert (k1["stance_openai"], k1["stance_openai_source"]) == ("against", "coder")
    assert rows["k2"]["outlet"] == "Kabar Nusa" and rows["k2"]["text"] == ARTICLES[1]["text"]
    # The same table as Parquet and JSONL, filtered like any export.
    assert (
        run(
            "export",
            "--guide",
            GUIDE,
            "--flat",
            "--lang",
            "en",
            "--format",
            "parquet",
            "--out",
            "f.parquet",
        ).exit_code
        == 0
    )
    table = pq.read_table(tmp_path / "f.parquet").to_pylist()
    assert [(r["id"], r["topics_source"]) for r in sorted(table, key=lambda r: r["id"])] == [
        ("h1", "coder"),
        ("h2", "predicted"),
    ]
    result = run("export", "--guide", GUIDE, "--flat", "--label", "topics=labor")
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ["k1"]
    assert run("export", "--flat").exit_code == 2
