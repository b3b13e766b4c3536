from __future__ import annotations

from newsclf.article import Article
from newsclf.collect.dedup import count_unique, duplicate_groups

WIRE = (
    "Lawmakers questioned the chief executives of three AI companies on Tuesday about licensing"
    " rules for large models. The committee chair said a licence regime could start next year,"
    " while two members warned that small startups would be shut out of the market. The companies"
    " promised to publish safety test results before each release and to let outside researchers"
    " audit their systems. Critics said voluntary promises had failed before in social media and"
    " asked for binding rules with penalties."
)
OTHER = (
    "A county fair gave its first prize for digital art to a picture made with a text-to-image"
    " tool, and several painters who entered the contest asked the judges to create a separate"
    " category next year. The organisers said they would review the rules before the spring"
    " exhibition and talk with local artists."
)


def test_exact_and_near_duplicates_are_grouped_and_distinct_stories_are_not():
    wire = Article(
        id="wire",
        title="Senators press AI chiefs",
        text=WIRE,
        published="2023-05-16T10:00:00+00:00",
    )
    exact = Article(
        id="exact",
        title="Senators press AI chiefs",
        text=WIRE.replace(". ", ".  "),
        published="2023-05-16T12:00:00+00:00",
    )
    reprint_text = (
        WIRE.replace(
            " Critics said voluntary promises had failed before in social media and asked for "
            "binding rules with penalties.",
            "",
        )
        + " A state senator from Plainview said the county would watch the debate closely."
    )
    reprint = Article(
        id="reprint",
        title="AI bosses face licensing questions",
        text=reprint_text,
        published="2023-05-16T16:00:00-05:00",
    )
    other = Article(
        id="other", title="Fair prize", text=OTHER, published="2023-05-01T09:00:00+00:00"
    )
    groups = duplicate_groups([reprint, other, exact, wire])
    assert (
        groups["wire"] == groups["exact"] == groups["reprint"] == "wire"
    )  # the earliest copy names the group
    assert groups["other"] == "other"
    assert count_unique(groups) == 2


def test_short_and_empty_texts_do_not_crash_or_merge():
    a, b = Article(id="a", text="AI"), Article(id="b", text="", title="Only a title")
    groups = duplicate_groups([a, b])
    assert groups == {"a": "a", "b": "b"}
