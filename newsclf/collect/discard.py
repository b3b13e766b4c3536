"""trafilatura's OVERALL_DISCARD_XPATH tested in Python, for the one prune where it costs most.

In its precision mode trafilatura prunes a copy of the whole page with the two XPath queries of
OVERALL_DISCARD_XPATH before it hands the page to readability (trafilatura.external's
compare_extraction). They test a dozen attribute conditions on every element, three of them EXSLT
regex tests that call back into Python one element at a time: on the bench pages that one prune
is a fifth of trafilatura's time in `extract()`. The same tests on the attribute strings in Python
cost half as much.

Inside `fast_overall_discard()` that prune (and only that one: the whole raw page, no backup) runs
`prune_overall_discard`, which deletes the same elements in the same order as trafilatura's
`prune_unwanted_nodes`; everywhere else, and for every other caller of trafilatura in the process,
trafilatura's own code runs. The hook is put in only when trafilatura's two queries are, character
for character, EXPECTED below, the ones translated here; with any other trafilatura nothing
changes but the speed.
"""

from __future__ import annotations

import contextvars
import re
import threading
from contextlib import contextmanager
from typing import Any, Iterator

# the regexes of the queries, as they stand in them
ID_TOKENS = (
    "^shar|social|viral|newsletter|syndication|tags|sidebar|banner|bread-?crumb|button|author|"
    "^(?:jp-|dpsp-content)|bmdh|footer|Footer|share|Share|nav|Nav|menu|related|message-container|"
    "premium|^ad-"
)
CLASS_TOKENS = (
    "^shar|social|viral|newsletter|syndication|tags|sidebar|banner|bread-?crumb|button|author|"
    "^(?:nav|post-nav|ZendeskForm)|subnav|avigation|navbar|navbox|menu|bar| ad |-ad-|(?:^| )ad-|"
    "dfp[Aa]d|outbrain|taboola|criteo|paid-?content|widget|footer|Footer|byline|Byline|share-|"
    "sociable|embedded|embed|tag-list|consent|modal-content|permission|elated|next-|-stories|"
    "most-popular|more-on|meta|rating|attachment|timestamp|user-info|user-profile|-icon|"
    "article-infos|message-container|slide|viewport|overlay|options|expand|obfuscated|blurred|"
    "mol-factbox|yin|zlylin|nfoline"
)
HIDDEN_ID_TOKENS = "reader-comments|akismet"
HIDDEN_CLASS_TOKENS = (
    "^hide-|comments-title|nocomments|-reply-|message|akismet|suggest-links|-hide-|hide-print|"
    " hidden| hide|noprint|notloaded"
)

# trafilatura 2.3.1's OVERALL_DISCARD_XPATH, as its .path strings read
EXPECTED = (
    "\n"
    "        .//*[self::div or self::item or self::list or self::p or self::section or "
    "self::span][\n"
    "        @data-lp-replacement-content or\n"
    "        contains(translate(@role, 'N', 'n'), 'nav') or\n"
    "        contains(@data-component, 'MostPopularStories') or\n"
    "        re:test(@id|@class, 'cookie') or\n"
    f"        re:test(@id, '{ID_TOKENS}') or\n"
    f"        re:test(@class, '{CLASS_TOKENS}')]\n"
    "        ",
    "\n"
    "        .//*[@class='comments-title' or\n"
    "        starts-with(@id|@class, 'reply-') or\n"
    "        re:test(@id|@style, 'hidden') or\n"
    "        contains(@style, 'display:none') or contains(@style, 'display: none') or\n"
    f"        re:test(@id, '{HIDDEN_ID_TOKENS}') or\n"
    f"        re:test(@class, '{HIDDEN_CLASS_TOKENS}') or @aria-hidden='true']\n"
    "        ",
)

# lxml's re:test is re.compile(pattern).search(value), a missing attribute read as ''
_COOKIE = re.compile("cookie")
_ID = re.compile(ID_TOKENS)
_CLASS = re.compile(CLASS_TOKENS)
_HIDDEN = re.compile("hidden")
_HIDDEN_ID = re.compile(HIDDEN_ID_TOKENS)
_HIDDEN_CLASS = re.compile(HIDDEN_CLASS_TOKENS)
_TAGS = frozenset(("div", "item", "list", "p", "section", "span"))


def _first(el, a: str, b: str) -> str:
    """XPath's string(@a|@b): the value of whichever comes first on the element, or ''."""
    value_a, value_b = el.get(a), el.get(b)
    if value_a is None or value_b is None:
        return value_b or value_a or ""
    keys = el.keys()  # in document order, which is the order a union of attributes takes
    return value_a if keys.index(a) < keys.index(b) else value_b


def discards_first(el) -> bool:
    """OVERALL_DISCARD_XPATH[0]'s test of one element."""
    # No regex matches '' and every test needs an attribute: elements without any pass at once.
    if el.tag not in _TAGS or not len(el.attrib):
        return False
    get = el.get
    return (
        get("data-lp-replacement-content") is not None
        or "nav" in (get("role") or "").replace("N", "n")
        or "MostPopularStories" in (get("data-component") or "")
        or _COOKIE.search(_first(el, "id", "class")) is not None
        or _ID.search(get("id") or "") is not None
        or _CLASS.search(get("class") or "") is not None
    )


def discards_second(el) -> bool:
    """OVERALL_DISCARD_XPATH[1]'s test of one element."""
    if not len(el.attrib):
        return False
    get = el.get
    cls = get("class")
    style = get("style") or ""
    return (
        cls == "comments-title"
        or _first(el, "id", "class").startswith("reply-")
        or _HIDDEN.search(_first(el, "id", "style")) is not None
        or "display:none" in style
        or "display: none" in style
        or _HIDDEN_ID.search(get("id") or "") is not None
        or _HIDDEN_CLASS.search(cls or "") is not None
        or get("aria-hidden") == "true"
    )


def matches(tree, test) -> list:
    """The elements under `tree` (not itself) that pass `test`, in document order (XPath .//*)."""
    from lxml import etree

    return [el for el in tree.iterdescendants(etree.Element) if test(el)]


def prune_overall_discard(tree):
    """trafilatura's prune_unwanted_nodes(tree, OVERALL_DISCARD_XPATH): the first query's matches
    deleted in document order (tails kept), then the second's in what is left."""
    from trafilatura.xml import delete_element

    for test in (discards_first, discards_second):
        for el in matches(tree, test):
            delete_element(el)
    return tree


_ACTIVE: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "newsclf_fast_overall_discard", default=False
)
_LOCK = threading.Lock()
_installed: bool | None = None


def install() -> bool:
    """Put the hook into trafilatura.external once; False (and nothing done) when trafilatura's
    queries are not EXPECTED."""
    global _installed
    with _LOCK:
        if _installed is None:
            _installed = _install()
        return _installed


def _install() -> bool:
    try:
        import trafilatura.external as external
        from trafilatura.xpaths import OVERALL_DISCARD_XPATH
    except ImportError:
        return False
    original = getattr(external, "prune_unwanted_nodes", None)
    if original is None or tuple(x.path for x in OVERALL_DISCARD_XPATH) != EXPECTED:
        return False

    def prune_unwanted_nodes(tree: Any, nodelist: Any, with_backup: bool = False) -> Any:
        if nodelist is OVERALL_DISCARD_XPATH and not with_backup and _ACTIVE.get():
            return prune_overall_discard(tree)
        return original(tree, nodelist, with_backup)

    prune_unwanted_nodes.__wrapped__ = original  # type: ignore[attr-defined]
    prune_unwanted_nodes.__doc__ = original.__doc__
    external.prune_unwanted_nodes = prune_unwanted_nodes
    return True


@contextmanager
def fast_overall_discard() -> Iterator[None]:
    """Within this block (this thread or task only), trafilatura's raw-page prune before
    readability runs `prune_overall_discard`."""
    if not install():
        yield
        return
    token = _ACTIVE.set(True)
    try:
        yield
    finally:
        _ACTIVE.reset(token)
