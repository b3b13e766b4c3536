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
_NEXT = re.compile(r"<!--|<[A-Za-z]")
RAW_TEXT = ("script", "style", "textarea", "xmp", "noscript")  # their content is not markup


def html_budget(text: str) -> str | None:
    """Why parsing this page would cost too much (too many elements, or attributes on one), or
    None."""
    tags, pos, quadratic = 0, 0, 0  # lxml's cost grows with the sum of squared attribute counts
    while (start := _NEXT.search(text, pos)) is not None:
        if start.group() == "<!--":
            end = text.find("-->", start.end())
            pos = len(text) if end < 0 else end + 3
            continue
        m = _TAG.match(text, start.start())
        tags += 1
        if tags > MAX_TAGS:
            return (
                f"the page has more than {MAX_TAGS:,} elements; not parsed (a hostile or broken"
                " page)"
            )
        name, inside = m.group(1).lower(), m.group(2)
        if len(inside) > 4_000:  # room for a few hundred attributes: count them
            n = len(_ATTRIBUTE.findall(inside))
            quadratic += n * n
            if quadratic > MAX_ATTRIBUTES**2:
                line = text.count("\n", 0, m.start()) + 1
                many = (
                    f"more than {MAX_ATTRIBUTES:,}"
                    if n > MAX_ATTRIBUTES
                    else "too many with the tags before it"
                )
                return (
                    f"line {line}: a <{name[:20]}> tag has {n:,} attributes ({many}); "
                    "not parsed (a hostile or broken page)"
                )
        pos = m.end()
        if name in RAW_TEXT:
            close = re.compile(f"</{name}", re.I).search(text, pos)
            pos = len(text) if close is None else close.start()
    return None
