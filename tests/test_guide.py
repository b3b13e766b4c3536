from __future__ import annotations

import pytest
from conftest import GUIDE

from newsclf.errors import GuideError
from newsclf.guide import load_guide, parse_guide, render_markdown

SMALL = """\
name: small
version: "2"
schemes:
  - name: topics
    kind: multi
    labels:
      - id: labor
        name: Labor
        key: "1"
        definition: Work behind AI.
      - id: safety
        name: Safety
        key: "2"
        definition: Risks of AI.
  - name: stance
    kind: single
    target: OpenAI
    labels:
      - id: favor
        name: Favor
        key: p
        definition: Positive.
      - id: against
        name: Against
        key: c
        definition: Negative.
"""


def problems(text: str) -> list[str]:
    with pytest.raises(GuideError) as info:
        parse_guide(text, "g.yaml")
    return info.value.problems


def test_shipped_guide_is_valid_and_has_the_required_schemes():
    guide = load_guide(GUIDE)
    topics, stance = guide.scheme("topics"), guide.scheme("stance")
    assert topics.kind == "multi" and topics.label_ids == [
        "labor",
        "safety",
        "regulation",
        "industry",
        "products",
        "other",
    ]
    assert stance.kind == "single" and stance.label_ids == [
        "favor",
        "against",
        "neutral",
        "unrelated",
    ]
    assert stance.target and set(guide.languages) == {"en", "id"}
    assert all(label.definition and label.include for s in guide.schemes for label in s.labels)


def test_small_guide_parses():
    guide = parse_guide(SMALL, "g.yaml")
    assert guide.version == "2" and guide.scheme("stance").effective_target(None) == "OpenAI"
    assert guide.scheme("stance").effective_target("Elon Musk") == "Elon Musk"
    assert guide.scheme("topics").effective_target("Elon Musk") == ""


@pytest.mark.parametrize(
    "old, new, expected",
    [
        (
            "        definition: Work behind AI.",
            "        defintion: Work behind AI.",
            [
                "g.yaml:10: unknown key 'defintion' in schemes[0].labels[0]; did you mean"
                " 'definition'?"
            ],
        ),
        (
            "      - id: safety",
            "      - id: labor",
            [
                "g.yaml:11: duplicate label id 'labor' in scheme 'topics' (first on line 7); give"
                " each label its own id"
            ],
        ),
        (
            '        key: "2"',
            '        key: "1"',
            ["g.yaml:11: key '1' of label 'safety' is already used by topics/labor"],
        ),
        (
            "        key: p",
            "        key: u",
            ["g.yaml:21: key 'u' is kept for undo on the labeling page"],
        ),
        (
            "    kind: single",
            "    kind: singel",
            ["g.yaml:16: kind 'singel' is not one of multi, single; did you mean 'single'?"],
        ),
        (
            'version: "2"',
            'version: "2"\nversion: "3"',
            ["g.yaml:3: duplicate key 'version' in the guide (first on line 2)"],
        ),
        (
            (
                "      - id: against\n        name: Against\n        key: c\n        definition:"
                " Negative.\n"
            ),
            "",
            ["g.yaml:15: scheme 'stance' is single-choice but has fewer than two labels"],
        ),
        ("name: small", "name: [small", ["g.yaml:2: not valid YAML"]),
    ],
)
def test_problems_are_reported_with_file_and_line(old, new, expected):
    found = problems(SMALL.replace(old, new))
    for want in expected:
        assert any(p.startswith(want) for p in found), found


def test_every_problem_is_reported_at_once():
    text = (
        SMALL.replace("defintion", "x")
        .replace("        definition: Work behind AI.", "        defintion: x")
        .replace("      - id: safety", "      - id: labor")
    )
    assert len(problems(text)) >= 3  # misspelled key, missing definition, duplicate id


def test_render_markdown_lists_every_label_with_definition():
    guide = load_guide(GUIDE)
    md = render_markdown(guide)
    for scheme in guide.schemes:
        assert f"## Scheme `{scheme.name}`" in md
        for label in scheme.labels:
            assert f"### {label.name} (`{label.id}`, key `{label.key}`)" in md
            assert label.definition in md


def test_guide_check_cli(run, tmp_path):
    ok = run("guide", "check", str(GUIDE))
    assert ok.exit_code == 0 and "ok (ai-discourse" in ok.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        SMALL.replace("        definition: Work behind AI.", "        defintion: Work behind AI."),
        encoding="utf-8",
    )
    result = run("guide", "check", str(bad))
    assert result.exit_code == 1
    assert f"{bad}:10: unknown key 'defintion'" in result.output


def test_guide_render_cli_writes_codebook(run, tmp_path):
    out = tmp_path / "codebook.md"
    assert run("guide", "render", str(GUIDE), "--out", str(out)).exit_code == 0
    assert out.read_text(encoding="utf-8").startswith("# Codebook: ai-discourse (version 1.3)")


TARGETS = SMALL.replace(
    "    target: OpenAI\n",
    """    targets:
      - name: OpenAI
        aliases: [Open AI, ChatGPT]
      - Elon Musk
""",
).replace(
    "        definition: Risks of AI.\n",
    "        definition: Risks of AI.\n        exclusive: true\n",
)


def test_several_stance_targets_with_aliases_and_exclusive_labels():
    guide = parse_guide(TARGETS, "g.yaml")
    stance = guide.scheme("stance")
    assert [t.name for t in stance.targets] == ["OpenAI", "Elon Musk"] and stance.target == "OpenAI"
    assert [
        t.name for t in stance.mentioned_targets("Users of chatgpt complained; Musk said nothing.")
    ] == ["OpenAI"]
    assert stance.mentioned_targets("Elon Musk and Open AI") == list(stance.targets)
    assert stance.mentioned_targets("OpenAIish products") == []
    assert guide.scheme("topics").exclusive_ids == {"safety"}
    codebook = render_markdown(guide)
    assert (
        "- OpenAI (also: Open AI, ChatGPT)" in codebook
        and "Safety (never combined with another label)" in codebook
    )


@pytest.mark.parametrize(
    "change, message",
    [
        (
            lambda t: t.replace(
                "      - Elon Musk\n", "      - name: Elon Musk\n        aliases: [ChatGPT]\n"
            ),
            "g.yaml:21: 'ChatGPT' already names target 'OpenAI'",
        ),
        (
            lambda t: t.replace("    targets:\n", "    target: OpenAI\n    targets:\n"),
            "g.yaml:18: schemes[1] has both target and targets",
        ),
        (
            lambda t: t.replace(
                "definition: Work behind AI.\n",
                "definition: Work behind AI.\n        exclusive: true\n",
            ),
            "g.yaml:4: every label of scheme 'topics' is exclusive",
        ),
        (
            lambda t: t.replace('key: "2"', 'key: "0"'),
            "g.yaml:13: key '0' is kept for none of these",
        ),
    ],
)
def test_target_and_exclusive_mistakes_are_named_with_their_line(change, message):
    found = problems(change(TARGETS))
    assert any(p.startswith(message) for p in found), found


GATED = TARGETS.replace(
    "schemes:\n",
    """schemes:
  - name: about_ai
    kind: single
    gate: "yes"
    question: Is this article substantially about AI?
    labels:
      - id: "yes"
        name: Yes
        key: y
        definition: About AI.
      - id: "no"
        name: No
        key: o
        definition: Not about AI.
""",
    1,
)


def test_a_gate_scheme_is_asked_first_and_the_others_depend_on_it():
    guide = parse_guide(GATED.replace("  - name: about_ai", "  - name: about_ai", 1), "g.yaml")
    assert guide.gate.name == "about_ai" and guide.scheme_names[0] == "about_ai"
    assert guide.gated("topics") and guide.gated("stance") and not guide.gated("about_ai")
    assert "**Relevance gate:** asked first" in render_markdown(guide)
    assert parse_guide(SMALL, "g.yaml").gate is None


@pytest.mark.parametrize(
    "change, message",
    [
        (
            lambda t: t.replace('gate: "yes"', 'gate: "maybe"'),
            "g.yaml:6: gate 'maybe' is not a label of scheme 'about_ai'",
        ),
        (
            lambda t: t.replace("    kind: single\n    gate", "    kind: multi\n    gate"),
            "g.yaml:6: scheme 'about_ai' is a gate",
        ),
    ],
)
def test_gate_mistakes_are_named_with_their_line(change, message):
    found = problems(change(GATED))
    assert any(p.startswith(message) for p in found), found


@pytest.mark.parametrize(
    "make, at, expected",
    [
        # one long string repeated through aliases: a small file that expands to hundreds of MB
        (
            lambda: (
                SMALL
                + "notes: &n "
                + "y" * 20_000
                + "\nrefs: ["
                + ", ".join(["*n"] * 2_000)
                + "]\n"
            ),
            "notes",
            "aliases expand the guide to 40,",
        ),
        # nested aliases: each level repeats the one before nine times
        (
            lambda: (
                SMALL
                + "".join(
                    f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]\n" for i in range(1, 7)
                )
                .replace("[*l0", "[x")
                .replace(", *l0", ", x")
            ),
            "l5",
            "aliases expand the guide to 1,270,808 characters",
        ),
        (
            lambda: SMALL + "deep: " + "[" * 1_000 + "]" * 1_000 + "\n",
            "deep",
            "the guide nests deeper than 50 levels",
        ),
    ],
)
def test_alias_bombs_and_deep_nesting_are_refused_by_line(run, tmp_path, make, at, expected):
    text = make()
    bad = tmp_path / "bad.yaml"
    bad.write_text(text, encoding="utf-8")
    line = 1 + next(i for i, x in enumerate(text.splitlines()) if x.startswith(at))
    for command in ("check", "render"):
        result = run("guide", command, str(bad))
        assert result.exit_code == 1 and "Traceback" not in result.output
        assert f"{bad}:{line}: {expected}" in result.output
