"""Annotations out and back in: newsclf JSONL, Prodigy JSONL, Label Studio JSON (round trips and the
CLI)."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from label_support import ARTICLES, GUIDE, GUIDE_PATH, demo_store

from newsclf.label import formats
from newsclf.store import Annotation, Store

A, B, C = "3bcd53f1ea5083c6", "039f5f8439a4cd4f", "e5b2caef6ef16c58"
ANNOTATIONS = [
    Annotation(A, "topics", ("labor", "safety"), "ana", seconds=2.5, guide_version="1.0"),
    Annotation(A, "stance", ("against",), "ana", "OpenAI", seconds=2.5, guide_version="1.0"),
    Annotation(A, "topics", ("labor",), "budi", seconds=4.0, guide_version="1.0"),
    Annotation(A, "stance", ("neutral",), "budi", "OpenAI", seconds=4.0, guide_version="1.0"),
    Annotation(A, "topics", ("labor",), "rita", guide_version="1.0", gold=True),
    Annotation(B, "topics", (), "ana", seconds=1.0, guide_version="0.9"),
    Annotation(B, "stance", ("favor",), "ana", "Microsoft", seconds=1.0, guide_version="0.9"),
    Annotation(C, "stance", ("unrelated",), "citra", "OpenAI", guide_version="1.0"),
]
# (An import stamps annotations that name no guide version with the guide they were checked
# against.)


def key(anns, with_seconds=True):
    return sorted(
        (a.article_id, a.scheme, a.target, tuple(sorted(a.labels)), a.labeler, a.gold)
        + ((a.guide_version, a.seconds) if with_seconds else ())
        for a in anns
    )


def source(tmp_path: Path, anns=ANNOTATIONS) -> Store:
    store = demo_store(tmp_path / "src.db")
    store.add_annotations(anns)
    return store


def test_prodigy_round_trip_into_an_empty_store(tmp_path):
    src = source(tmp_path)
    tasks = [json.loads(json.dumps(t)) for t in formats.to_prodigy(src, GUIDE)]
    assert len(tasks) == len(ANNOTATIONS)
    t = next(
        t
        for t in tasks
        if t["meta"]["id"] == A and t["_annotator_id"] == "ana" and t["meta"]["scheme"] == "topics"
    )
    assert (
        t["accept"] == ["labor", "safety"] and t["answer"] == "accept" and t["_view_id"] == "choice"
    )
    assert {o["id"] for o in t["options"]} == set(GUIDE.scheme("topics").label_ids)
    dst = Store(tmp_path / "dst.db")
    imported = formats.from_prodigy(list(enumerate(tasks, 1)), GUIDE, dst)
    assert imported.rejected == []
    imported.save(dst)
    assert key(dst.annotations()) == key(src.annotations())
    assert (
        dst.get_article(A).text == src.get_article(A).text
        and dst.get_article(A).title == src.get_article(A).title
    )


def test_prodigy_binary_tasks_rejects_and_scheme_inference(tmp_path):
    store = demo_store(tmp_path / "p.db")
    lines = [
        (
            1,
            {
                "text": "x",
                "meta": {"id": A},
                "label": "labor",
                "answer": "accept",
                "_annotator_id": "ana",
            },
        ),
        (
            2,
            {
                "text": "x",
                "meta": {"id": A},
                "label": "safety",
                "answer": "accept",
                "_annotator_id": "ana",
            },
        ),
        (
            3,
            {
                "text": "x",
                "meta": {"id": A},
                "label": "industry",
                "answer": "reject",
                "_annotator_id": "ana",
            },
        ),
        (4, {"text": "x", "meta": {"id": B}, "accept": ["favor", "against"], "answer": "accept"}),
        (5, {"text": "x", "meta": {"id": B}, "accept": ["nope"], "answer": "accept"}),
        (6, {"meta": {"id": "unknown-article"}, "accept": ["labor"], "answer": "accept"}),
        (7, ["not", "a", "task"]),
    ]
    imported = formats.from_prodigy(lines, GUIDE, store)
    assert [n for n, _ in imported.rejected] == [3, 4, 5, 6, 7]
    assert "reject" in imported.rejected[0][1] and "exactly one" in imported.rejected[1][1]
    assert [(a.article_id, a.scheme, a.labels, a.labeler) for a in imported.annotations] == [
        (A, "topics", ("labor", "safety"), "ana")
    ]


def test_label_studio_round_trip_and_config(tmp_path):
    src = source(tmp_path)
    tasks = json.loads(json.dumps(formats.to_label_studio(src, GUIDE)))
    first = next(t for t in tasks if t["data"]["newsclf_id"] == A)
    assert first["data"]["target"] == "OpenAI" and len(first["annotations"]) == 3
    ana = next(a for a in first["annotations"] if a["completed_by"]["email"] == "ana")
    assert {r["from_name"]: r["value"]["choices"] for r in ana["result"]} == {
        "topics": ["labor", "safety"],
        "stance": ["against"],
    }
    assert ana["lead_time"] == 5.0 and any(a["ground_truth"] for a in first["annotations"])
    dst = Store(tmp_path / "dst.db")
    imported = formats.from_label_studio(tasks, GUIDE, dst)
    assert imported.rejected == []
    imported.save(dst)
    assert key(dst.annotations()) == key(src.annotations())
    config = formats.label_studio_config(GUIDE)
    assert (
        '<Choices name="topics" toName="text" choice="multiple"' in config
        and 'hotkey="p"' in config
    )
    # Tasks made in Label Studio itself: integer coders, cancelled annotations, non-choice results.
    foreign = [
        {
            "id": 7,
            "data": {"text": "A brand new article about OpenAI.", "title": "New"},
            "annotations": [
                {
                    "completed_by": 3,
                    "result": [
                        {
                            "from_name": "stance",
                            "to_name": "text",
                            "type": "choices",
                            "value": {"choices": ["favor"]},
                        },
                        {"from_name": "x", "type": "labels", "value": {}},
                    ],
                },
                {"completed_by": 4, "was_cancelled": True, "result": []},
            ],
        },
        {
            "data": {"text": "t"},
            "annotations": [
                {"result": [{"from_name": "nope", "type": "choices", "value": {"choices": ["a"]}}]}
            ],
        },
    ]
    imported = formats.from_label_studio(foreign, GUIDE, dst)
    assert [(a.scheme, a.labels, a.labeler, a.target) for a in imported.annotations] == [
        ("stance", ("favor",), "3", "OpenAI")
    ]
    assert [n for n, _ in imported.rejected] == [2]


labels = st.builds(
    lambda t, s, who, gold: (tuple(sorted(set(t))), s, who, gold),
    st.lists(st.sampled_from(GUIDE.scheme("topics").label_ids), max_size=3).filter(
        lambda t: len(set(t)) < 2 or not set(t) & GUIDE.scheme("topics").exclusive_ids
    ),  # valid sets
    st.sampled_from(GUIDE.scheme("stance").label_ids),
    st.sampled_from(["ana", "budi", "Citra Dewi", "ü"]),
    st.booleans(),
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(labels, min_size=1, max_size=4, unique_by=lambda x: (x[2], x[3])))
def test_both_formats_round_trip_any_labels(tmp_path_factory, rows):
    tmp = tmp_path_factory.mktemp("rt")
    src = Store(tmp / "src.db")
    from newsclf.records import import_file

    import_file(src, ARTICLES)
    anns = []
    for topics, stance, who, gold in rows:
        labeler = who + ("-gold" if gold else "")
        anns += [
            Annotation(A, "topics", topics, labeler, gold=gold, guide_version="1.0"),
            Annotation(A, "stance", (stance,), labeler, "OpenAI", gold=gold, guide_version="1.0"),
        ]
    src.add_annotations(anns)
    for name, out, back in [
        (
            "prodigy",
            lambda: list(formats.to_prodigy(src, GUIDE)),
            lambda data, dst: formats.from_prodigy(list(enumerate(data, 1)), GUIDE, dst),
        ),
        (
            "ls",
            lambda: formats.to_label_studio(src, GUIDE),
            lambda data, dst: formats.from_label_studio(data, GUIDE, dst),
        ),
    ]:
        dst = Store(tmp / f"{name}.db")
        imported = back(json.loads(json.dumps(out())), dst)
        assert imported.rejected == []
        imported.save(dst)
        assert key(dst.annotations()) == key(src.annotations()), name


def test_cli_export_and_import_in_every_format(tmp_path, run):
    db = tmp_path / "src.db"
    source(tmp_path).close()
    assert run("annotations", "export", "--out", "all.jsonl", db=db).exit_code == 0
    lines = [json.loads(x) for x in Path("all.jsonl").read_text().splitlines()]
    assert len(lines) == 5  # one per coder and article (ana/A, budi/A, rita/A gold, ana/B, citra/C)
    ana = next(x for x in lines if x["id"] == A and x["labeler"] == "ana")
    assert (
        ana["labels"] == {"stance": ["against"], "topics": ["labor", "safety"]}
        and ana["target"] == "OpenAI"
    )
    assert ana["seconds"] == 5.0 and ana["guide_version"] == "1.0"
    assert run("annotations", "export", "--gold", "--out", "gold.jsonl", db=db).exit_code == 0
    assert [json.loads(x) for x in Path("gold.jsonl").read_text().splitlines()][0]["gold"] is True
    # newsclf JSONL goes back in with the ordinary import (which stamps the guide's version, and
    # splits no seconds).
    fresh = tmp_path / "fresh.db"
    assert run("import", str(ARTICLES), db=fresh).exit_code == 0
    assert run("import", "all.jsonl", "--guide", str(GUIDE_PATH), db=fresh).exit_code == 0
    assert key(Store(fresh).annotations(), with_seconds=False) == key(
        Store(db).annotations(), with_seconds=False
    )
    for fmt, name in [("prodigy", "p.jsonl"), ("label-studio", "ls.json")]:
        r = run(
            "annotations",
            "export",
            "--format",
            fmt,
            "--guide",
            str(GUIDE_PATH),
            "--out",
            name,
            *(["--config", "config.xml"] if fmt == "label-studio" else []),
            db=db,
        )
        assert r.exit_code == 0, r.output
        target = tmp_path / f"{fmt}.db"
        r = run(
            "annotations", "import", name, "--format", fmt, "--guide", str(GUIDE_PATH), db=target
        )
        assert r.exit_code == 0 and "rejected: 0" in r.output, r.output
        assert key(Store(target).annotations()) == key(Store(db).annotations())
    assert Path("config.xml").read_text().startswith("<View>")
    assert (
        run("annotations", "export", "--format", "prodigy", db=db).exit_code == 2
    )  # needs --guide
    Path("bad.jsonl").write_text(
        '{"text": "x", "accept": ["labor"], "meta": {"scheme": "topics"}}\nnot json\n'
    )
    r = run(
        "annotations",
        "import",
        "bad.jsonl",
        "--format",
        "prodigy",
        "--guide",
        str(GUIDE_PATH),
        db=target,
    )
    assert r.exit_code == 1 and "bad.jsonl:2: not valid JSON" in r.output
