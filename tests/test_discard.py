"""collect.discard: trafilatura's OVERALL_DISCARD_XPATH tested in Python finds, and deletes, what
the XPath queries do, and only inside fast_overall_discard()."""

from __future__ import annotations

import gzip
import os
import random
from copy import deepcopy
from pathlib import Path

import pytest
from lxml import etree

from newsclf.collect import discard
from newsclf.collect import extract as extract_module

SCRAPINGHUB = Path(
    os.environ.get("NEWSCLF_SCRAPINGHUB", "/work/shared/data/extraction/scrapinghub")
)


def test_the_queries_translated_are_trafilaturas():
    """If this fails, trafilatura's OVERALL_DISCARD_XPATH changed: translate the new queries in
    newsclf/collect/discard.py (EXPECTED and the tests) or extraction loses a tenth of its speed."""
    from trafilatura.xpaths import OVERALL_DISCARD_XPATH

    assert tuple(x.path for x in OVERALL_DISCARD_XPATH) == discard.EXPECTED
    assert discard.install()


def _random_page(rng: random.Random) -> str:
    """A page of nested elements whose attributes are glued from the queries' own tokens."""
    tokens = [
        t
        for group in (
            discard.ID_TOKENS,
            discard.CLASS_TOKENS,
            discard.HIDDEN_ID_TOKENS,
            discard.HIDDEN_CLASS_TOKENS,
        )
        for t in group.split("|")
    ]
    tokens += ["cookie", "hidden", "reply-", "comments-title", "display:none", "display: none"]
    tokens += ["MostPopularStories", "NAV", "Nav", "true", " ", "", "x", "ad", "é", "-", "\t"]
    names = ["id", "class", "style", "role", "data-component", "data-lp-replacement-content"]
    names += ["aria-hidden", "href"]
    tags = ["div", "p", "section", "span", "item", "list", "a", "li", "nav", "article", "ul"]

    def element(depth: int) -> etree._Element:
        el = etree.Element(rng.choice(tags))
        for name in rng.sample(
            names, rng.randint(0, 5)
        ):  # in any order: @id|@class takes the first
            el.set(name, "".join(rng.choice(tokens) for _ in range(rng.randint(0, 3))))
        el.text = rng.choice(["", "text", " "])
        for _ in range(rng.randint(0, 4) if depth < 4 else 0):
            child = element(depth + 1)
            child.tail = rng.choice([None, "tail", " "])
            el.append(child)
        return el

    body = etree.tostring(element(0), encoding="unicode", method="html")
    return f"<html><body>{body}</body></html>"


def test_python_tests_find_and_delete_what_the_queries_do():
    from trafilatura.htmlprocessing import prune_unwanted_nodes
    from trafilatura.xpaths import OVERALL_DISCARD_XPATH

    rng = random.Random(34)
    found = [0, 0]
    for _ in range(300):
        tree = extract_module._load_tree(_random_page(rng))
        for i, test in enumerate((discard.discards_first, discard.discards_second)):
            expected = OVERALL_DISCARD_XPATH[i](tree)
            assert discard.matches(tree, test) == expected
            found[i] += len(expected)
        ours = discard.prune_overall_discard(deepcopy(tree))
        theirs = prune_unwanted_nodes(deepcopy(tree), OVERALL_DISCARD_XPATH)
        assert etree.tostring(ours) == etree.tostring(theirs)
    assert min(found) > 100  # the pages do hold matches of both queries


def test_only_the_raw_page_prune_inside_the_block_is_replaced(monkeypatch):
    import trafilatura
    import trafilatura.external as external
    from trafilatura.xpaths import REMOVE_COMMENTS_XPATH

    assert discard.install()
    calls = []

    def spy(tree):
        calls.append(tree)
        return tree

    monkeypatch.setattr(discard, "prune_overall_discard", spy)
    page = (
        "<html><body><article><p>"
        + "The council met on Tuesday and voted on the harbour plan. " * 6
        + "</p></article></body></html>"
    )
    trafilatura.extract(page, favor_precision=True)
    assert not calls  # outside the block: trafilatura's own prune
    with discard.fast_overall_discard():
        external.prune_unwanted_nodes(etree.fromstring("<div/>"), REMOVE_COMMENTS_XPATH)
        assert not calls  # another prune: trafilatura's own
        trafilatura.extract(page, favor_precision=True)
    assert len(calls) == 1
    trafilatura.extract(page, favor_precision=True)
    assert len(calls) == 1  # and after it, trafilatura's own again
    assert external.prune_unwanted_nodes.__wrapped__ is not discard.prune_overall_discard


@pytest.mark.skipif(not (SCRAPINGHUB / "html").is_dir(), reason="no ScrapingHub pages here")
@pytest.mark.parametrize("precision", [True, False])
def test_bench_pages_give_trafilaturas_own_text(precision):
    """On real pages: set aside scripts and styles, the raw-page prune in Python, the same text."""
    import trafilatura

    for path in sorted((SCRAPINGHUB / "html").glob("*.html.gz"))[::9]:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            tree = extract_module._load_tree(fh.read())
        whole = trafilatura.extract(
            tree,
            include_comments=False,
            include_images=False,
            favor_precision=precision,
            deduplicate=False,
            with_metadata=False,
        )
        assert extract_module._trafilatura_text(tree, precision) == (whole or ""), path.name
