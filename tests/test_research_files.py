"""Files as researchers bring them: Excel and Google Sheets CSVs, TSVs, JSONL with repeated ids,
huge cells.

Every file is written here, in our own words, byte for byte as the tool that makes it would write
it.
Each import is checked for its counts, its messages, and that no text was changed or lost.
"""

from __future__ import annotations

import csv
import json
import re
from datetime import date, timedelta, timezone

import pytest
from conftest import GUIDE, write_jsonl
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from newsclf.errors import InputError
from newsclf.fields import (
    DAYFIRST,
    MONTHFIRST,
    OutletNames,
    normalize_date,
    parse_column_map,
)
from newsclf.store import Store
from newsclf.textfiles import accents_inside_latin_words

CAFE = (
    "Café owners in Leeds said “the reactor” of their menu is now a chatbot – and some regulars"
    " object."
)
NURSES = (
    "Nurses at a Bristol hospital asked for a say in how the AI triage tool is used on night"
    " shifts."
)
LABELERS = (
    "Data labelers in Nairobi say the wage for rating chatbot answers fell again; “we are the"
    " engine,” one said."
)
MAP = "text=body,title=headline,published=date,outlet=source"


def excel_csv(path, encoding: str, bom: bool):
    """What Excel writes as 'CSV' where the list separator is ';': CRLF, ';', quotes only where
    needed."""
    rows = [
        ["id", "headline", "body", "date", "source", "coder note"],
        ["x1", "Café owners and a chatbot", CAFE, "12/05/2023", "Daily Planet", "check; later"],
        ["x2", "Nurses and AI triage", NURSES, "25/05/2023 14:30", "daily planet ", ""],
        ["x3", "Labelers' pay", LABELERS, "03.06.2023", "www.Harbor Ledger", 'a "quoted" note'],
    ]

    def cell(c: str) -> str:
        return '"' + c.replace('"', '""') + '"' if any(ch in c for ch in ';"\n') else c

    text = "\r\n".join(";".join(cell(c) for c in row) for row in rows) + "\r\n"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding))
    return path


def exported(run) -> dict[str, dict]:
    result = run("export")
    return {d["id"]: d for d in map(json.loads, result.stdout.splitlines())}


def test_an_excel_csv_in_cp1252_with_semicolons_and_day_first_dates_imports_exactly(run, tmp_path):
    path = excel_csv(tmp_path / "excel.csv", "cp1252", bom=False)
    result = run("import", path, "--map", MAP, "--dayfirst", "--timezone", "Europe/London")
    assert result.exit_code == 0, result.output
    assert "articles: 3 new, 0 updated, 0 unchanged, 0 conflicts" in result.stdout
    assert f"{path}: read as cp1252" in result.stderr  # one line names the encoding
    assert result.stderr.count("read as cp1252") == 1
    rows = exported(run)
    assert [rows[i]["text"] for i in ("x1", "x2", "x3")] == [CAFE, NURSES, LABELERS]  # no mojibake
    assert rows["x1"]["title"] == "Café owners and a chatbot"
    assert rows["x1"]["published"] == "2023-05-12"
    assert (
        rows["x2"]["published"] == "2023-05-25T14:30:00+01:00"
    )  # naive time in --timezone (BST in May)
    assert rows["x3"]["published"] == "2023-06-03"
    assert rows["x1"]["metadata"]["published_original"] == "12/05/2023"
    assert (
        rows["x1"]["metadata"]["coder note"] == "check; later"
    )  # unmapped columns kept in metadata
    assert rows["x3"]["metadata"]["coder note"] == 'a "quoted" note'
    assert {r["outlet"] for r in rows.values()} == {"Daily Planet", "Harbor Ledger"}
    assert rows["x2"]["metadata"]["outlet_original"] == "daily planet "


def test_ambiguous_day_month_dates_are_rejected_with_the_option_that_settles_them(run, tmp_path):
    path = excel_csv(tmp_path / "excel.csv", "cp1252", bom=False)
    result = run("import", path, "--map", MAP)
    assert result.exit_code == 1
    # 12/05/2023 and 03.06.2023 could be either; 25/05/2023 can only be day first.
    assert f"{path}:2: published '12/05/2023' is ambiguous" in result.stderr
    assert "--dayfirst" in result.stderr and "--monthfirst" in result.stderr
    assert f"{path}:4: published '03.06.2023' is ambiguous" in result.stderr
    assert "articles: 1 new" in result.stdout and "rejected lines: 2" in result.stdout
    result = run("import", path, "--map", MAP, "--monthfirst")
    assert f"{path}:3: published '25/05/2023 14:30' has no month 25" in result.stderr
    assert "articles: 2 new" in result.stdout and "rejected lines: 1" in result.stdout
    assert exported(run)["x1"]["published"] == "2023-12-05"


def test_an_excel_utf8_csv_with_a_bom_reads_its_first_column_and_names_no_encoding(run, tmp_path):
    path = excel_csv(tmp_path / "excel-utf8.csv", "utf-8", bom=True)
    result = run("import", path, "--map", MAP, "--dayfirst")
    assert result.exit_code == 0, result.output
    assert "read as" not in result.stderr
    assert set(exported(run)) == {"x1", "x2", "x3"}  # 'id', not '\ufeffid'


def test_the_cp1252_copy_of_an_imported_utf8_file_is_the_same_articles_not_new_ones(run, tmp_path):
    run("import", excel_csv(tmp_path / "utf8.csv", "utf-8", bom=True), "--map", MAP, "--dayfirst")
    result = run(
        "import",
        excel_csv(tmp_path / "cp1252.csv", "cp1252", bom=False),
        "--map",
        MAP,
        "--dayfirst",
    )
    assert "articles: 0 new, 0 updated, 3 unchanged, 0 conflicts" in result.stdout, result.output


def test_without_the_column_map_the_error_names_the_columns_and_the_fix(run, tmp_path):
    path = excel_csv(tmp_path / "excel.csv", "cp1252", bom=False)
    result = run("import", path, "--dayfirst")
    assert result.exit_code == 1
    assert f'{path}:2: missing "text"' in result.stderr
    assert "this line has id, headline, body, date, source, coder note" in result.stderr
    assert "--map text=COLUMN" in result.stderr


def test_a_google_sheets_export_with_commas_quoted_newlines_and_month_names(run, tmp_path):
    path = tmp_path / "Coverage sheet - Sheet1.csv"
    body = "Line one of the story.\nLine two, with a comma, and “curly quotes”."
    path.write_text(
        "id,title,text,published,outlet\r\n"
        f'g1,"Chatbots, again","{body}","May 12, 2023",Kabar Nusa\r\n'
        f'g2,Rules for AI,{NURSES},"June 3, 2023 7:45 PM",kabar  nusa\r\n',
        encoding="utf-8",
    )
    result = run("import", path, "--timezone", "Asia/Jakarta")
    assert result.exit_code == 0, result.output
    assert "articles: 2 new, 0 updated, 0 unchanged, 0 conflicts" in result.stdout
    rows = exported(run)
    assert rows["g1"]["text"] == body and rows["g1"]["title"] == "Chatbots, again"
    assert rows["g1"]["published"] == "2023-05-12"
    assert rows["g2"]["published"] == "2023-06-03T19:45:00+07:00"
    assert rows["g2"]["outlet"] == "Kabar Nusa"


@pytest.mark.parametrize("name", ["articles.tsv", "articles-tabs.csv"])
def test_a_tsv_by_name_or_by_its_header(run, tmp_path, name):
    path = tmp_path / name
    path.write_text(
        "id\ttitle\ttext\tpublished\n"
        f"t1\tTabs, commas; and pipes|\t{CAFE}\t2023-05-12T07:45:00+07:00\n"
        f"t2\tSecond\t{NURSES}\t12 Mei 2023 07:45 WIB\n",
        encoding="utf-8",
    )
    result = run("import", path)
    assert result.exit_code == 0, result.output
    rows = exported(run)
    assert rows["t1"]["title"] == "Tabs, commas; and pipes|" and rows["t1"]["text"] == CAFE
    assert rows["t2"]["published"] == "2023-05-12T07:45:00+07:00"


def test_delimiter_forced_and_a_bad_row_reported_by_line_while_the_rest_is_read(run, tmp_path):
    path = tmp_path / "pipes.csv"
    path.write_text(
        "id|text\np1|first, with commas\np2|second|extra cell\np3|third; with semicolons\n",
        encoding="utf-8",
    )
    result = run("import", path, "--delimiter", "|")
    assert result.exit_code == 1
    assert f"{path}:3: the row has more cells than the header has columns" in result.stderr
    assert "articles: 2 new" in result.stdout and "rejected lines: 1" in result.stdout
    assert exported(run)["p3"]["text"] == "third; with semicolons"
    assert run("import", path, "--delimiter", "ab").exit_code == 2


def test_a_csv_with_a_one_megabyte_cell_imports_it_and_the_rows_after_it(run, tmp_path):
    big = ("A very long transcript of a hearing on AI rules. " * 22000)[:1_048_575] + "."
    path = tmp_path / "big.csv"
    path.write_text(f'id,text\nb1,{NURSES}\nb2,"{big}"\nb3,{CAFE}\n', encoding="utf-8")
    result = run("import", path)
    assert result.exit_code == 0, result.output
    assert "articles: 3 new" in result.stdout
    rows = exported(run)
    assert len(rows["b2"]["text"]) == 1_048_576 and rows["b2"]["text"] == big
    assert rows["b3"]["text"] == CAFE


def test_a_stray_cp1252_byte_past_the_sniffed_start_rejects_that_line_and_says_why(run, tmp_path):
    path = tmp_path / "late.jsonl"
    lines = [json.dumps({"id": f"l{i}", "text": "plain ascii text " * 60}) for i in range(1100)]
    data = "\n".join(lines).encode() + b'\n{"id": "late", "text": "Caf\xe9 owners"}\n'
    path.write_bytes(data)
    result = run("import", path)
    assert result.exit_code == 1
    assert f"{path}:1101: the line has bytes that are not valid UTF-8" in result.stderr
    assert "--encoding cp1252" in result.stderr
    assert "articles: 1100 new" in result.stdout
    result = run("import", path, "--encoding", "cp1252")
    assert "articles: 1 new, 0 updated, 1100 unchanged" in result.stdout, result.output
    assert exported(run)["late"]["text"] == "Café owners"


def test_jsonl_with_a_repeated_id_is_a_conflict_reported_with_both_lines(run, tmp_path):
    path = write_jsonl(
        tmp_path / "dups.jsonl",
        [
            {"id": "a1", "text": CAFE},
            {"id": "a2", "text": NURSES},
            {"id": "a1", "text": LABELERS},
            {"id": "a2", "text": NURSES},
        ],
    )
    result = run("import", path)
    assert result.exit_code == 0, result.output
    assert "articles: 2 new, 0 updated, 1 unchanged, 1 conflicts" in result.stdout
    assert (
        f"{path}:3: conflict: id 'a1' has another title or text than line 1 of this file; kept the"
        " stored one" in result.stderr
    )
    assert exported(run)["a1"]["text"] == CAFE


def test_on_conflict_replace_takes_the_new_text_and_error_rejects_the_line(run, tmp_path):
    first = write_jsonl(tmp_path / "first.jsonl", [{"id": "a1", "text": CAFE}])
    second = write_jsonl(tmp_path / "second.jsonl", [{"id": "a1", "text": LABELERS}])
    run("import", first)
    result = run("import", second, "--on-conflict", "error")
    assert result.exit_code == 1
    assert f"{second}:1: id 'a1' has another title or text than the stored article" in result.stderr
    assert "0 conflicts" in result.stdout and "rejected lines: 1" in result.stdout
    assert exported(run)["a1"]["text"] == CAFE
    result = run("import", second, "--on-conflict", "replace")
    assert result.exit_code == 0
    assert "articles: 0 new, 1 updated, 0 unchanged, 1 conflicts" in result.stdout
    assert "replaced it with this line's" in result.stderr
    assert exported(run)["a1"]["text"] == LABELERS


def test_an_outlets_file_maps_every_spelling_to_one_name_in_the_store_and_the_report(run, tmp_path):
    outlets = tmp_path / "outlets.csv"
    outlets.write_text(
        "alias,canonical\nthe daily planet,Daily Planet\ndailyplanet.example,Daily Planet\n",
        encoding="utf-8",
    )
    path = write_jsonl(
        tmp_path / "a.jsonl",
        [
            {"id": "o1", "text": CAFE, "outlet": "The Daily Planet", "published": "2023-05-12"},
            {
                "id": "o2",
                "text": NURSES,
                "outlet": "www.dailyplanet.example",
                "published": "2023-05-13",
            },
            {"id": "o3", "text": LABELERS, "outlet": "daily  PLANET", "published": "2023-05-14"},
        ],
    )
    result = run("import", path, "--outlets", outlets)
    assert result.exit_code == 0, result.output
    rows = exported(run)
    assert {r["outlet"] for r in rows.values()} == {"Daily Planet"}
    assert rows["o2"]["metadata"]["outlet_original"] == "www.dailyplanet.example"
    with Store(tmp_path / "newsclf.db") as store:
        assert store.outlet_names() == ["Daily Planet"]
    bad = tmp_path / "bad-outlets.csv"
    bad.write_text("only one cell\n", encoding="utf-8")
    result = run("import", path, "--outlets", bad)
    assert (
        result.exit_code == 1 and f"{bad}:1: write one alias,canonical pair a line" in result.stderr
    )


def test_outlet_names_keep_the_first_spelling_seen():
    names = OutletNames()
    assert names.canonical("Daily Planet") == "Daily Planet"
    assert names.canonical(" daily   planet ") == "Daily Planet"
    assert names.canonical("https://www.kabarnusa.id/") == "kabarnusa.id"


@pytest.mark.parametrize(
    "encoding, text",
    [
        ("cp1252", "Les élèves étaient très contents à l’école – où était-il ?"),
        ("cp1252", "Café owners said “the reactor” of their menu is now a chatbot."),
        ("cp1251", "Журналисты писали о регулировании искусственного интеллекта."),
        ("cp1255", "העיתונאים כתבו על הרגולציה של הבינה המלאכותית."),
        ("cp1253", "Οι δημοσιογράφοι έγραψαν για την τεχνητή νοημοσύνη."),
        ("cp949", "한국 언론은 인공지능 규제에 대해 보도했다. 기자들은 노동 문제를 다뤘다."),
        ("gb18030", "中国媒体报道了人工智能监管问题。"),
    ],
)
def test_an_undeclared_encoding_is_detected(encoding, text):
    from newsclf.textfiles import sniff_encoding

    data = f"id,text\n1,{text}\n".encode(encoding)
    codec, detected = sniff_encoding(data, complete=True)
    assert detected and data.decode(codec) == data.decode(encoding)


@pytest.mark.parametrize(
    "value, order, expected",
    [
        ("2023-05-12T07:45:00+07:00", None, "2023-05-12T07:45:00+07:00"),
        ("2023-05-12", None, "2023-05-12"),
        ("12/05/2023", DAYFIRST, "2023-05-12"),
        ("12/05/2023", MONTHFIRST, "2023-12-05"),
        ("25/05/2023", None, "2023-05-25"),
        ("05/25/2023", None, "2023-05-25"),
        ("12.05.2023", DAYFIRST, "2023-05-12"),
        ("12-05-23", DAYFIRST, "2023-05-12"),
        ("05/05/2023", None, "2023-05-05"),
        ("May 12, 2023", None, "2023-05-12"),
        ("12 Mei 2023 07:45 WIB", None, "2023-05-12T07:45:00+07:00"),
        ("Jumat, 12 Mei 2023 07:45 WIB", None, "2023-05-12T07:45:00+07:00"),
        ("12/05/2023 07:45 WIB", DAYFIRST, "2023-05-12T07:45:00+07:00"),
        ("May 12, 2023 7:45 p.m.", None, "2023-05-12T19:45:00"),
    ],
)
def test_normalize_date(value, order, expected):
    assert normalize_date(value, order) == expected


@pytest.mark.parametrize(
    "value, order, message",
    [
        ("12/05/2023", None, "ambiguous"),
        ("25/05/2023", MONTHFIRST, "no month 25"),
        ("3 hours ago", None, "not a date with a year"),
        ("sometime in 2023", None, "not a date newsclf reads"),
    ],
)
def test_normalize_date_errors(value, order, message):
    with pytest.raises(InputError, match=message):
        normalize_date(value, order)


def test_timezone_applies_to_naive_times_only():
    wib = timezone(timedelta(hours=7))
    assert normalize_date("2023-05-12T07:45:00", tz=wib) == "2023-05-12T07:45:00+07:00"
    assert normalize_date("2023-05-12T07:45:00+00:00", tz=wib) == "2023-05-12T07:45:00+00:00"
    assert normalize_date("2023-05-12", tz=wib) == "2023-05-12"


@pytest.mark.parametrize(
    "spec, error",
    [("text", "FIELD=COLUMN"), ("colour=body", "not a record field"), ("text=a,text=b", "twice")],
)
def test_bad_column_maps_are_usage_errors(run, tmp_path, spec, error):
    with pytest.raises(InputError, match=error):
        parse_column_map(spec)
    path = write_jsonl(tmp_path / "a.jsonl", [{"id": "m1", "body": CAFE}])
    result = run("import", path, "--map", spec)
    assert result.exit_code == 2 and error in result.stderr


def test_a_jsonl_column_map_keeps_a_displaced_field(run, tmp_path):
    path = write_jsonl(
        tmp_path / "a.jsonl", [{"id": "m1", "body": CAFE, "text": "teaser only", "source": "Kabar"}]
    )
    result = run("import", path, "--map", "text=body,outlet=source")
    assert result.exit_code == 0, result.output
    row = exported(run)["m1"]
    assert (
        row["text"] == CAFE
        and row["outlet"] == "Kabar"
        and row["metadata"]["original_text"] == "teaser only"
    )


def test_train_classify_and_evaluate_read_mapped_columns(run, tmp_path):
    words = {
        "labor": "annotators demand a fair hourly wage and contracts",
        "safety": "experts warn the model could deceive people and spread false claims",
        "regulation": "lawmakers voted on licensing rules for the AI act",
        "industry": "the startup raised new funding for chips and cloud deals",
    }
    lines = ["story_id;headline;story;topic;day"]
    for i in range(48):
        topic = sorted(words)[i % 4]
        lines.append(
            f"s{i};{topic} – news {i} from a café;{words[topic]}, report {i}"
            f" says.;{topic};{1 + i % 28:02d}/05/2023"
        )
    data = tmp_path / "coded.csv"
    data.write_text("\n".join(lines) + "\n", encoding="cp1252")
    cols = "id=story_id,title=headline,text=story,labels.topics=topic,published=day"
    result = run(
        "train",
        "--guide",
        GUIDE,
        "--data",
        data,
        "--map",
        cols,
        "--dayfirst",
        "--out",
        "model",
        "--folds",
        "2",
    )
    assert result.exit_code == 0, result.output
    result = run(
        "classify", "--model", "model", data, "--map", cols, "--dayfirst", "--out", "labeled.jsonl"
    )
    assert result.exit_code == 0, result.output
    assert "classified 48 articles" in result.stderr
    result = run("evaluate", "--model", "model", "--data", data, "--map", cols, "--dayfirst")
    assert result.exit_code == 0, result.output
    assert "topics" in result.stdout
    # Label-only lines (an id and labels, no text) are scored on the store's text, or say why they
    # cannot be.
    label_only = write_jsonl(
        tmp_path / "gold.jsonl",
        [{"id": f"s{i}", "labels": {"topics": [sorted(words)[i % 4]]}} for i in range(12)],
    )
    result = run(
        "evaluate", "--model", "model", "--data", label_only, db=str(tmp_path / "empty.db")
    )
    assert result.exit_code == 1
    assert "12 of its lines name an article by id without its text" in result.stderr
    assert run("import", data, "--map", cols, "--dayfirst", "--guide", GUIDE).exit_code == 0
    result = run("evaluate", "--model", "model", "--data", label_only)
    assert result.exit_code == 0, result.output
    assert "topics" in result.stdout
    # batch reads the same file with the same options (in its worker processes) and names the
    # encoding.
    result = run(
        "batch",
        "--model",
        "model",
        data,
        "--map",
        cols,
        "--dayfirst",
        "--out",
        "out",
        "--workers",
        "1",
    )
    assert result.exit_code == 0, result.output
    assert f"{data}: read as cp1252" in result.stderr
    out_rows = [
        json.loads(line) for f in sorted((tmp_path / "out").glob("*.jsonl")) for line in f.open()
    ]
    assert sorted(r["id"] for r in out_rows) == sorted(f"s{i}" for i in range(48))


# What Western European and Indonesian text in Excel's cp1252 is made of. (Arbitrary cp1252 bytes
# cannot be told from Korean or Chinese ones: a run like "\xa0\xa0\xa0\xa0" is valid in both; the
# notice names the guess.)
LATIN_TEXT = st.text(
    alphabet=st.sampled_from(
        list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        + list("     .,;:!?'\"()-/|\t\n\r")
        + list("éèàçñüöäßÉÖÑ“”‘’–—…€")
    ),
    min_size=1,
    max_size=60,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    texts=st.lists(st.text(min_size=1, max_size=60).filter(str.strip), min_size=1, max_size=5),
    latin=st.lists(LATIN_TEXT.filter(str.strip), min_size=1, max_size=5),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]),
)
def test_any_text_written_by_a_csv_writer_reads_back_unchanged(
    tmp_path, texts, latin, delimiter, encoding
):
    """Property: whatever the delimiter, quoting and encoding, the cells come back as they were
    written."""
    from newsclf.records import read_records

    if encoding == "cp1252":
        texts = latin
        # The reader's stated rule (textfiles._reads_as_latin): a file that is not UTF-8 reads as
        # cp1252 when its accented characters stand mostly alone; runs of three or more (ÉÉÉÉ) are
        # what East Asian double-byte text looks like in cp1252, and that stays ambiguous (the
        # cp949 and gb18030 cases above pin the other side). Against a Hebrew, Cyrillic or Greek
        # guess it reads as cp1252 when most accented letters sit in words with ASCII letters;
        # words of accented letters alone are what those scripts look like in cp1252.
        runs = [len(m) for m in re.findall(r"[^\x00-\x7f]+", "\n".join(texts))]
        assume(
            not runs
            or sum(n for n in runs if n >= 3) / sum(runs) < 0.5
            and accents_inside_latin_words("\n".join(texts))
        )
    path = tmp_path / "prop.csv"
    with open(path, "w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh, delimiter=delimiter)
        writer.writerow(["id", "title", "text"])
        for i, text in enumerate(texts):
            writer.writerow([f"r{i}", f"t{delimiter}{i}", text])
    results = list(read_records(path))
    assert [r.error for r in results] == [None] * len(texts)
    assert [r.record.article.text for r in results] == texts
    assert [r.record.article.title for r in results] == [
        f"t{delimiter}{i}" for i in range(len(texts))
    ]


def test_accented_letters_inside_latin_words_read_as_cp1252_not_hebrew(tmp_path):
    """A saved hypothesis example: a detector read these cp1252 cells as Hebrew (cp1255)."""
    from newsclf.records import read_records

    texts = ["Éà", "äAAA", "ÉÉAÖÖÖ"]
    path = tmp_path / "latin.csv"
    with open(path, "w", encoding="cp1252", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "title", "text"])
        writer.writerows([f"r{i}", f"t,{i}", text] for i, text in enumerate(texts))
    assert [r.record.article.text for r in read_records(path)] == texts


def test_a_quote_never_closed_is_reported_not_read_into_one_cell(run, tmp_path):
    path = tmp_path / "open-quote.csv"
    path.write_text(
        f'id,text\nq1,{CAFE}\nq2,"opened and never closed\nq3,{NURSES}\n', encoding="utf-8"
    )
    result = run("import", path)
    assert result.exit_code == 1
    assert (
        f"{path}:3: not valid CSV: a quoted cell that starts in this row is never closed"
        in result.stderr
    )
    assert "articles: 1 new" in result.stdout and "rejected lines: 1" in result.stdout


@settings(max_examples=200, deadline=None)
@given(day=st.dates(min_value=date(1900, 1, 1), max_value=date(2199, 12, 31)))
def test_every_written_form_of_a_day_reads_back_as_that_day(day):
    """Property: a day written day-first, month-first or with its month's name is read as that
    day."""
    iso = day.isoformat()
    assert normalize_date(day.strftime("%d/%m/%Y"), DAYFIRST) == iso
    assert normalize_date(day.strftime("%d.%m.%Y"), DAYFIRST) == iso
    assert normalize_date(day.strftime("%m/%d/%Y"), MONTHFIRST) == iso
    assert normalize_date(f"{day:%B} {day.day}, {day.year}") == iso
    assert normalize_date(f"{day.day} {day:%b} {day.year}") == iso
    if day.day > 12:  # only one reading is possible: no option needed
        assert normalize_date(day.strftime("%d/%m/%Y")) == iso
