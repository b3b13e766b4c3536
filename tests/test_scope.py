"""Scope: a relevance gate keeps off-topic news out of the other schemes; other languages are not
labeled."""

from __future__ import annotations

import json
import random

import pytest
from conftest import GUIDE, write_jsonl

from newsclf.guide import parse_guide
from newsclf.model.data import examples_from_records
from newsclf.records import record_from_dict

GATE = """\
  - name: about_ai
    kind: single
    gate: "yes"
    question: Is this article substantially about artificial intelligence?
    labels:
      - id: "yes"
        name: Yes, about AI
        key: y
        definition: The article is substantially about AI.
      - id: "no"
        name: No, not about AI
        key: o
        definition: The article is about something else.
"""
AI = {
    "labor": [
        "data labelers who train the chatbot earn a low hourly wage",
        "annotators rating AI answers demand contracts",
        "pekerja pelabel data untuk kecerdasan buatan dibayar murah",
    ],
    "industry": [
        "the AI startup raised new funding for its language model",
        "rivals compete for AI chips and cloud deals",
        "perusahaan rintisan kecerdasan buatan mendapat pendanaan",
    ],
    "safety": [
        "experts warn the AI model could deceive people",
        "an open letter asks AI labs to pause training",
        "pakar memperingatkan risiko kecerdasan buatan",
    ],
}
OFF = [
    "the striker scored twice as the home side won the derby",
    "heavy rain is expected across the coast on friday",
    "the council approved a new budget for road repairs",
    "the singer announced a world tour starting in june",
    "tim sepak bola kota itu menang dua gol tanpa balas",
    "harga beras naik menjelang musim kemarau",
    "pengadilan negeri menunda sidang kasus korupsi",
    "the central bank kept interest rates unchanged",
]


def guide_text(gate_scheme: str) -> str:
    """The project's guide with `gate_scheme` as its gate (in place of the guide's own about_ai)."""
    text = GUIDE.read_text(encoding="utf-8")
    start = text.index("  - name: about_ai\n")
    text = text[:start] + text[text.index("  - name: ", start + 1) :]
    return text.replace("schemes:\n", "schemes:\n" + gate_scheme, 1)


@pytest.fixture(scope="module")
def gated(tmp_path_factory):
    """A guide with the gate, and a model trained on AI and off-topic articles through the CLI."""
    from click.testing import CliRunner

    from newsclf.cli import main

    tmp = tmp_path_factory.mktemp("scope")
    guide_path = tmp / "guide.yaml"
    guide_path.write_text(guide_text(GATE), encoding="utf-8")
    rng = random.Random(3)
    rows = []
    for i in range(48):
        if i % 3 == 2:
            text = ". ".join(rng.choice(OFF) for _ in range(6)) + "."
            rows.append(
                {
                    "id": f"off{i}",
                    "text": text,
                    "title": text[:40],
                    "lang": "en",
                    "published": f"2023-0{1 + i % 8}-10T08:00:00+00:00",
                    "labels": {"about_ai": ["no"]},
                }
            )
            continue
        topics = rng.sample(sorted(AI), rng.choice([1, 2]))
        text = (
            ". ".join(rng.choice(AI[t]) for t in topics for _ in range(3)) + ". OpenAI said little."
        )
        rows.append(
            {
                "id": f"ai{i}",
                "text": text,
                "title": text[:40],
                "lang": "en",
                "target": "OpenAI",
                "published": f"2023-0{1 + i % 8}-10T08:00:00+00:00",
                "labels": {
                    "about_ai": ["yes"],
                    "topics": sorted(topics),
                    "stance": [rng.choice(["favor", "against"])],
                },
            }
        )
    data = write_jsonl(tmp / "train.jsonl", rows)
    r = CliRunner().invoke(
        main,
        [
            "--db",
            str(tmp / "t.db"),
            "train",
            "--guide",
            str(guide_path),
            "--data",
            str(data),
            "--out",
            str(tmp / "model"),
            "--folds",
            "3",
            "--split",
            "random",
        ],
        catch_exceptions=False,
    )
    assert r.exit_code == 0, r.output
    return tmp, guide_path


NEW = [
    {
        "id": "sport",
        "lang": "en",
        "title": "Derby win",
        "text": (
            "The striker scored twice as the home side won the "
            "derby. The coach praised the defence. Heavy rain is expected on friday."
        ),
    },
    {
        "id": "bola",
        "lang": "id",
        "title": "Menang",
        "text": (
            "Tim sepak bola kota itu menang dua gol tanpa balas. "
            "Pelatih memuji lini belakang. Harga tiket naik."
        ),
    },
    {
        "id": "labor",
        "lang": "en",
        "title": "Raters",
        "text": (
            "Data labelers who train the chatbot earn a low hourly "
            "wage, and annotators rating AI answers demand contracts from OpenAI."
        ),
    },
    {
        "id": "de",
        "lang": "de",
        "title": "Radsport",
        "text": (
            "Der Radfahrer gewann die Etappe nach einem langen "
            "Anstieg und übernahm das gelbe Trikot."
        ),
    },
]


def test_the_gate_keeps_off_topic_news_out_and_other_languages_are_counted(gated, run, tmp_path):
    tmp, _ = gated
    path = write_jsonl(tmp_path / "new.jsonl", NEW)
    out = tmp_path / "out.jsonl"
    result = run("classify", "--model", str(tmp / "model"), str(path), "--save", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert (
        "classified 4 articles; 2 not labeled (gated out); 1 not labeled (language not covered)"
        in result.output
    )
    got = {r["id"]: r for r in map(json.loads, out.read_text().splitlines())}
    for off in ("sport", "bola"):
        assert got[off]["labels"]["about_ai"] == ["no"] and got[off]["labels"]["topics"] == []
        assert got[off]["cats"]["topics"] == {} and got[off]["skipped"].startswith("about_ai: no")
    assert (
        got["labor"]["labels"]["about_ai"] == ["yes"]
        and "labor" in got["labor"]["labels"]["topics"]
    )
    assert "skipped" not in got["labor"]
    assert got["de"]["labels"] == {"about_ai": [], "topics": [], "stance": []}
    assert got["de"]["skipped"] == "language de is not among the guide's (en, id)"
    from newsclf.store import Store

    with Store(tmp_path / "newsclf.db") as store:
        rows = {(p["article_id"], p["scheme"]) for p in store.predictions()}
        skipped = store.skipped()
    assert (
        ("sport", "about_ai") in rows
        and ("sport", "topics") not in rows
        and ("de", "about_ai") not in rows
    )
    assert ("labor", "topics") in rows and ("labor", "stance") in rows
    assert set(skipped) == {"sport", "bola", "de"}
    # --any-language labels the German article too (the gate then reads it like any other).
    again = run(
        "classify",
        "--model",
        str(tmp / "model"),
        str(path),
        "--any-language",
        "--out",
        str(tmp_path / "b.jsonl"),
    )
    assert "language not covered" not in again.output
    de = [json.loads(line) for line in (tmp_path / "b.jsonl").read_text().splitlines()][3]
    assert de["labels"]["about_ai"] != [] and "language" not in de.get("skipped", "")


def test_a_record_the_gate_closes_gives_no_example_to_the_other_schemes(gated):
    _, guide_path = gated
    guide = parse_guide(guide_path.read_text(encoding="utf-8"), str(guide_path))
    records = [
        record_from_dict(
            {"id": "a", "text": "x", "labels": {"about_ai": ["no"], "topics": ["labor"]}}
        ),
        record_from_dict(
            {"id": "b", "text": "y", "labels": {"about_ai": ["yes"], "topics": ["labor"]}}
        ),
        record_from_dict({"id": "c", "text": "z", "labels": {"topics": ["safety"]}}),
    ]
    examples = examples_from_records(records, guide)
    assert [e.article.id for e in examples["about_ai"]] == ["a", "b"]
    assert [e.article.id for e in examples["topics"]] == ["b", "c"]


def test_the_model_card_says_how_many_off_topic_articles_the_gate_lets_through(gated):
    tmp, _ = gated
    card = (tmp / "model" / "card.md").read_text(encoding="utf-8")
    line = next(x for x in card.splitlines() if x.startswith("Relevance gate, cross-validated"))
    assert (
        "off-topic articles let through" in line and " of 16 (" in line
    )  # 16 off-topic training rows


def test_let_through_counts_from_a_confusion_matrix():
    from newsclf.model.train import let_through

    conf = {"labels": ["yes", "no"], "matrix": [[18, 2], [1, 9]]}
    assert let_through(conf, "yes").startswith(
        "Relevance gate, cross-validated: off-topic articles let through 1 of 10 (10%); on-topic"
        " articles shut out 2 of 20 (10%)"
    )


KEYWORDS = GATE.replace(
    '    gate: "yes"\n',
    '    gate: "yes"\n    keywords: [artificial intelligence, AI, chatbot, kecerdasan buatan]\n',
)


def guide_with(scheme_text: str):
    return parse_guide(guide_text(scheme_text), "g.yaml")


@pytest.mark.parametrize(
    "title, text, verdict",
    [
        (
            "Derby win",
            "The striker scored twice as the home side won.",
            "closed",
        ),  # names none: kept out
        ("Chatbot helps a farmer", "A tractor story.", "open"),  # in the title
        (
            "Budget",
            "The minister mentioned AI. Later, the AI plan was shelved.",
            "open",
        ),  # named twice
        (
            "Budget",
            "Like many firms, it is looking at AI for its call centre.",
            None,
        ),  # once in passing: the model reads it
        ("Pasar", "Pemerintah menyiapkan aturan kecerdasan buatan dan Kecerdasan Buatan.", "open"),
        ("Said", "He said he was afraid; she sighed.", "closed"),  # 'ai' inside words is no mention
    ],
)
def test_the_gate_keywords_close_open_or_leave_it_to_the_model(title, text, verdict):
    from newsclf.guide import keyword_verdict

    assert keyword_verdict(guide_with(KEYWORDS).gate, title, text) == verdict
    assert (
        keyword_verdict(guide_with(GATE).gate, title, text) is None
    )  # without keywords the model decides alone


def test_keywords_belong_to_the_gate_and_the_codebook_names_them():
    from newsclf.errors import GuideError
    from newsclf.guide import render_markdown

    codebook = render_markdown(guide_with(KEYWORDS))
    assert (
        "**Keywords** (the model's evidence for this gate): artificial intelligence, AI, chatbot"
        in codebook
    )
    bad = GATE.replace('    gate: "yes"\n', "    keywords: [AI]\n")
    with pytest.raises(GuideError, match="has keywords but is not the gate"):
        guide_with(bad)


def test_predict_lets_the_keywords_overrule_the_gate_model_and_says_why(gated, tmp_path):
    from newsclf.article import Article
    from newsclf.model.predict import load_model

    model = load_model(gated[0] / "model")
    articles = [
        Article(
            id="sport",
            title="Derby",
            text="The striker scored twice as the home side won the derby.",
            lang="en",
        ),
        Article(
            id="ai",
            title="AI startup raises funding",
            text="Harga beras naik menjelang musim kemarau.",
            lang="en",
        ),
    ]
    plain = model.predict(articles)
    assert plain[1]["labels"]["about_ai"] == [
        "no"
    ]  # the model alone reads an off-topic body as off topic
    model.guide = guide_with(KEYWORDS)  # the same gate, now with keywords
    ruled = model.predict(articles)
    assert (
        ruled[0]["labels"]["about_ai"] == ["no"]
        and ruled[0]["labels"]["topics"] == []
        and "skipped" in ruled[0]
    )
    assert (
        ruled[1]["labels"]["about_ai"] == ["yes"]
        and ruled[1]["labels"]["topics"]
        and "skipped" not in ruled[1]
    )
    assert (
        ruled[1]["gate_rule"]
        == "yes: names a gate keyword in its title or twice (the model said no)"
    )
    assert (
        ruled[1]["cats"]["about_ai"] == plain[1]["cats"]["about_ai"]
    )  # the model's probabilities are kept
