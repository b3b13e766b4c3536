"""A parse budget for HTML: a page that would take lxml and extraction far more than about 2 s is
refused.

lxml's parse time grows with the square of one tag's attributes (40,000: 3 s; 200,000: minutes) and
extraction costs about 2 s per 50,000 elements; `html_budget` finds such a page in one linear scan.
"""

from __future__ import annotations

import re

MAX_TAGS = 60_000  # elements in a page (news pages have a few thousand)
MAX_ATTRIBUTES = 20_000  # attributes on one element (lxml takes about 0.7 s for 20,000)
# A whole tag in one C-level match (possessive, so a tag without its '>' cannot backtrack); quoted
# values may hold '>' and '<'.
_TAG = re.compile(r"""<([A-Za-z][^\s/>]*+)((?:[^>"']++|"[^"]*+"|'[^']*+')*+)>?""")
_ATTRIBUTE = re.compile(r"""[^\s"'=/>]++(?:\s*+=\s*+(?:"[^"]*+"|'[^']*+'|[^\s>]++))?+""")
RAW_TEXT = ("script", "style", "textarea", "xmp", "noscript")  # their content is not markup


_SCAN = re.compile(r"<!--(?:.*?-->|.*)|" + _TAG.pattern, re.S)  # a comment, or a tag
_CLOSE = {name: re.compile(f"</{name}", re.I) for name in RAW_TEXT}


def html_budget(text: str) -> str | None:
    """Why parsing this page would cost too much (too many elements, or attributes on one), or
    None."""
    tags, pos, quadratic = 0, 0, 0  # lxml's cost grows with the sum of squared attribute counts
    # finditer walks comments and tags in C; Python sees each tag once and restarts the scan
    # only after raw text (<script>, <style>, ...), whose content is not markup
    while pos < len(text):
        for m in _SCAN.finditer(text, pos):
            name = m.group(1)
            if name is None:
                continue  # a comment, up to its "-->" (or the end)
            tags += 1
            if tags > MAX_TAGS:
                return (
                    f"the page has more than {MAX_TAGS:,} elements; not parsed "
                    "(a hostile or broken page)"
                )
            if m.end(2) - m.start(2) > 4_000:  # room for a few hundred attributes: count them
                n = len(_ATTRIBUTE.findall(m.group(2)))
                quadratic += n * n
                if quadratic > MAX_ATTRIBUTES**2:
                    line = text.count("\n", 0, m.start()) + 1
                    many = (
                        f"more than {MAX_ATTRIBUTES:,}"
                        if n > MAX_ATTRIBUTES
                        else "too many with the tags before it"
                    )
                    return (
                        f"line {line}: a <{name.lower()[:20]}> tag has {n:,} attributes ({many}); "
                        "not parsed (a hostile or broken page)"
                    )
            if len(name) <= 8 and (raw := name.lower()) in RAW_TEXT:
                close = _CLOSE[raw].search(text, m.end())
                pos = len(text) if close is None else close.start()
                break
        else:
            return None
    return None
