"""Every parser of untrusted input either parses or raises newsclf's own error: a few hundred inputs
each here,
10,000 each with `python -m bench.fuzz` (or `pytest -m slow tests/test_fuzz.py`)."""

from __future__ import annotations

import pytest

from bench.fuzz import TARGETS, run_target


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_no_foreign_exception_escapes(name):
    tally = run_target(name, examples=200)
    assert tally.tried >= 150
    assert tally.escaped == [], tally.escaped[0]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(TARGETS))
def test_no_foreign_exception_escapes_long(name):
    tally = run_target(name, examples=10_000)
    assert tally.tried >= 9_000 and tally.escaped == [], tally.escaped[:1]
