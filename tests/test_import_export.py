from __future__ import annotations

import csv
import gzip
import json

from conftest import GUIDE, write_jsonl

from newsclf.store import Store

ROWS = [
    {
        "id": "a1",
        "title": "Raters paid little",
        "text": "Workers who rate chatbot answers earn little.",
        "lang": "en",
        "outlet": "Harbor",
        "published": "2023-05-12T07:45:00+07:00",
        "target": "OpenAI",
        "labels": {"topics": ["labor"], "stance": ["against"]},
    },
    {
        "id": "a2",
        "title": "Chip deal",
        "text": "A chip maker signed a deal with a cloud firm.",
        "lang": "en",
        "labels": {"topics": ["industry"]},
    },
    {
        "id": "a3",
        "title": "Aturan AI",
        "text": "Kominfo menyiapkan aturan tentang kecerdasan buatan.",
        "lang": "id",
        "labels": {"topics": ["regulation"], "stance": ["neutral"]},
    },
]


def test_jsonl_with_one_malformed_line_imports_the_rest_and_names_the_bad_line(run, tmp_path):
    path = write_jsonl(
        tmp_path / "in.jsonl", [ROWS[0], '{"id": "broken", "text": "unterminated', ROWS[1], ROWS[2]]
    )
    result = run("import", str(path), "--guide", str(GUIDE))
    assert result.exit_code == 1
    assert f"{path}:2: not valid JSON" in result.output
    assert "articles: 3 new" in result.output
    with Store(tmp_path / "newsclf.db") as store:
        assert store.count_articles() == 3
        stance = store.annotations(scheme="stance")
        # The record's own target overrides the guide's default (OpenAI) only where given.
        assert {(a.article_id, a.target, a.labels) for a in stance} == {
            ("a1", "OpenAI", ("against",)),
            ("a3", "OpenAI", ("neutral",)),
        }


def test_importing_twice_changes_nothing(run, tmp_path):
    path = write_jsonl(tmp_path / "in.jsonl", ROWS)
    assert run("import", str(path), "--guide", str(GUIDE)).exit_code == 0
    with Store(tmp_path / "newsclf.db") as store:
        before = store.conn.execute("SELECT * FROM articles ORDER BY id").fetchall()
        before_ann = store.conn.execute("SELECT * FROM annotations ORDER BY id").fetchall()
    second = run("import", str(path), "--guide", str(GUIDE))
    assert second.exit_code == 0 and "articles: 0 new, 0 updated, 3 unchanged" in second.output
    with Store(tmp_path / "newsclf.db") as store:
        assert [tuple(r) for r in store.conn.execute("SELECT * FROM articles ORDER BY id")] == [
            tuple(r) for r in before
        ]
        assert [tuple(r) for r in store.conn.execute("SELECT * FROM annotations ORDER BY id")] == [
            tuple(r) for r in before_ann
        ]


def test_a_record_without_lang_gets_its_language_identified_and_marked_so(run, tmp_path):
    rows = [
        {
            "id": "e",
            "text": (
                "Workers who rate chatbot answers say they are paid very little for long shifts."
            ),
        },
        {
            "id": "i",
            "text": "Para pekerja yang menilai jawaban chatbot mengaku dibayar sangat murah.",
        },
        {"id": "s", "text": "AI."},  # too short to tell: stays unknown
        {
            "id": "g",
            "text": "Workers who rate chatbot answers say they are paid little.",
            "lang": "id",
        },
    ]
    path = write_jsonl(tmp_path / "in.jsonl", rows)
    assert run("import", str(path)).exit_code == 0
    with Store(tmp_path / "newsclf.db") as store:
        got = {i: store.get_article(i) for i in "eisg"}
    assert {i: a.lang for i, a in got.items()} == {
        "e": "en",
        "i": "id",
        "s": None,
        "g": "id",
    }  # a given lang stands
    assert got["e"].metadata == {"lang_detected": True} and got["g"].metadata == {}
    assert "articles: 0 new, 0 updated, 4 unchanged" in run("import", str(path)).output


def test_invalid_labels_are_rejected_with_reason(run, tmp_path):
    rows = [
        ROWS[0],
        {**ROWS[1], "labels": {"topics": ["labour"]}},
        {**ROWS[2], "labels": {"stance": ["favor", "against"]}},
        {**ROWS[2], "id": "a4", "labels": {"tone": ["x"]}},
        {"id": "a5", "title": "no text"},
        {**ROWS[2], "id": "a6", "labels": {"topics": ["other", "labor"]}},
    ]
    path = write_jsonl(tmp_path / "in.jsonl", rows)
    result = run("import", str(path), "--guide", str(GUIDE))
    assert result.exit_code == 1
    assert f"{path}:2: scheme 'topics' has no label 'labour'" in result.output
    assert f"{path}:3: scheme 'stance' takes exactly one label, got 2" in result.output
    assert f"{path}:4: the guide 'ai-discourse' has no scheme 'tone'" in result.output
    assert f'{path}:5: missing "text"' in result.output
    assert (
        f"{path}:6: label 'other' of scheme 'topics' is never combined with another label"
        in result.output
    )
    assert "articles: 1 new" in result.output


def test_labels_without_a_guide_are_refused_but_articles_kept(run, tmp_path):
    path = write_jsonl(tmp_path / "in.jsonl", [{"id": "x", "text": "plain"}, ROWS[0]])
    result = run("import", str(path))
    assert (
        result.exit_code == 1
        and "pass --guide" in result.output
        and "articles: 1 new" in result.output
    )


def test_label_only_lines_attach_to_stored_articles(run, tmp_path):
    articles = write_jsonl(
        tmp_path / "a.jsonl",
        [{k: v for k, v in r.items() if k not in ("labels", "target")} for r in ROWS],
    )
    labels = write_jsonl(
        tmp_path / "l.jsonl",
        [
            {"id": "a1", "labels": {"topics": ["labor", "safety"]}, "labeler": "ana"},
            {"id": "zz", "labels": {"topics": ["labor"]}},
        ],
    )
    assert run("import", str(articles)).exit_code == 0
    result = run("import", str(labels), "--guide", str(GUIDE))
    assert result.exit_code == 1 and "unknown article id 'zz'" in result.output
    with Store(tmp_path / "newsclf.db") as store:
        [ann] = store.annotations()
        assert ann.labeler == "ana" and ann.labels == ("labor", "safety")


def test_csv_and_gzip_import(run, tmp_path):
    path = tmp_path / "in.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            ["id", "title", "text", "lang", "authors", "labels.topics", "labels.stance"]
        )
        writer.writerow(
            [
                "c1",
                "Judul",
                'Teks berita\ndengan baris baru, "kutipan"',
                "id",
                "Rina; Budi",
                "labor;safety",
                "against",
            ]
        )
        writer.writerow(["c2", "Bad", "x", "en", "", "nonsense", ""])
    gz = tmp_path / "in.jsonl.gz"
    with gzip.open(gz, "wt", encoding="utf-8") as fh:
        fh.write(json.dumps(ROWS[1]) + "\n")
    result = run("import", str(path), str(gz), "--guide", str(GUIDE))
    assert (
        result.exit_code == 1 and f"{path}:4: scheme 'topics' has no label 'nonsense'"
    )  # the row starts on line 4 in result.output
    with Store(tmp_path / "newsclf.db") as store:
        c1 = store.get_article("c1")
        assert c1.text == 'Teks berita\ndengan baris baru, "kutipan"' and c1.authors == [
            "Rina",
            "Budi",
        ]
        assert store.get_article("a2") is not None


def test_export_jsonl_and_csv_round_trip(run, tmp_path):
    path = write_jsonl(tmp_path / "in.jsonl", ROWS)
    run("import", str(path), "--guide", str(GUIDE))
    out = tmp_path / "out.jsonl"
    assert run("export", "--labels", "--out", str(out)).exit_code == 0
    exported = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [e["id"] for e in exported] == ["a1", "a2", "a3"]  # by date, undated last
    assert exported[0]["annotations"][0]["labels"] in (["labor"], ["against"])
    # Re-importing an export into a fresh store reproduces the articles exactly.
    fresh = tmp_path / "fresh.db"
    assert run("import", str(out), db=str(fresh)).exit_code == 0
    with Store(tmp_path / "newsclf.db") as a, Store(fresh) as b:
        assert list(a.iter_articles()) == list(b.iter_articles())
    csv_out = tmp_path / "out.csv"
    assert run("export", "--format", "csv", "--labels", "--out", str(csv_out)).exit_code == 0
    with open(csv_out, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["id"] for r in rows] == ["a1", "a2", "a3"] and json.loads(rows[0]["annotations"])


def test_a_json_array_file_imports_item_by_item_and_names_bad_items_by_line(run, tmp_path):
    """Many tools export `[{...}, ...]` as .json: each item is a record; a bad item or a syntax
    error says its line."""
    good = tmp_path / "export.json"
    good.write_text(
        "\n" + json.dumps([ROWS[0], {"id": "x", "title": "no text"}, ROWS[1]], indent=2),
        encoding="utf-8",
    )
    result = run("import", str(good), "--guide", str(GUIDE))
    assert result.exit_code == 1
    bad_line = 1 + good.read_text().splitlines().index(
        "  {", 1 + good.read_text().splitlines().index("  {")
    )
    assert f'{good}:{bad_line}: missing "text"' in result.output
    assert "articles: 2 new" in result.output

    broken = tmp_path / "broken.json"
    broken.write_text(
        '[{"id": "b1", "text": "one"},\n {"id": "b2", "text": "two",}]\n', encoding="utf-8"
    )
    result = run("import", str(broken))
    assert result.exit_code == 1
    assert (
        f"{broken}:2: not valid JSON" in result.output
        and "the rest of the file was not read" in result.output
    )
    assert "articles: 1 new" in result.output
    with Store(tmp_path / "newsclf.db") as store:
        assert store.count_articles() == 3
