"""The labeling page in real headless Chromium (Debian's chromium, driven by Playwright): keyboard only."""

from __future__ import annotations

import os

import pytest
from test_label_support import GUIDE, add_labeler, demo_store, prepare, serving, xss_article

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                reason=f"{CHROMIUM} is missing (apt-get install chromium); CI installs it")


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(10000)
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    yield page
    context.close()


def log_in(page, url: str, token: str) -> None:
    page.goto(url + "/code")
    assert page.url.endswith("/login")
    page.keyboard.type(token)  # the token field has focus
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/code")


def shown(page) -> str:
    return page.get_attribute("#article", "data-article-id")


def test_code_twenty_articles_undo_skip_and_flag_with_the_keyboard_only(tmp_path, page):
    db = tmp_path / "label.db"
    store = demo_store(db)
    token = add_labeler(store, "ana")
    prepare(store, reliability=10, estimation=10, seed=20)
    topic_keys = {lab.key: lab.id for lab in GUIDE.scheme("topics").labels}
    stance_keys = {lab.key: lab.id for lab in GUIDE.scheme("stance").labels}
    expected: dict[str, dict[str, tuple[str, ...]]] = {}
    with serving(db) as url:
        log_in(page, url, token)
        for i in range(20):
            article_id = shown(page)
            assert article_id not in expected, "an article came back to the same labeler"
            topics = sorted({"123456"[i % 6], "123456"[(i * 5 + 1) % 6]})
            stance = "pcnx"[i % 4]
            for key in topics:
                page.keyboard.press(key)
            page.keyboard.press("1")  # toggles: pressed twice means off, so net "1" flips
            page.keyboard.press("1")
            page.keyboard.press(stance)
            with page.expect_navigation():
                page.keyboard.press("Enter")
            expected[article_id] = {"topics": tuple(sorted(topic_keys[k] for k in topics)),
                                    "stance": (stance_keys[stance],)}
        last = article_id
        # Undo the last save: its annotations go, and the article comes back.
        with page.expect_navigation():
            page.keyboard.press("u")
        assert shown(page) == last
        del expected[last]
        # Skip it.
        with page.expect_navigation():
            page.keyboard.press("s")
        flagged = shown(page)
        assert flagged != last
        # Flag the next one with a note; Escape first shows that cancelling sends nothing.
        page.keyboard.press("f")
        page.keyboard.type("draft")
        page.keyboard.press("Escape")
        assert page.is_hidden("#flag")
        page.keyboard.press("f")
        page.keyboard.type("Is a chip deal 'industry' or 'products'?")
        page.keyboard.press("Enter")
        page.wait_for_function("document.getElementById('status').textContent.includes('Flagged')")
        # The codebook is one key away.
        assert page.is_hidden("#help")
        page.keyboard.press("?")
        assert page.is_visible("#help") and "Include:" in page.inner_text("#help")
        page.keyboard.press("?")
        assert page.is_hidden("#help")

    rows = store.annotations()
    got = {}
    for ann in rows:
        got.setdefault(ann.article_id, {})[ann.scheme] = ann.labels
        assert ann.labeler == "ana" and ann.guide_version == GUIDE.version and not ann.gold
        assert ann.seconds is not None and 0 <= ann.seconds < 60
        assert ann.target == ("OpenAI" if ann.scheme == "stance" else "")
    assert got == expected and len(rows) == 38
    status = {a["article_id"]: a["status"] for a in store.assignments("ana")}
    assert status[last] == "skipped" and status[flagged] == "leased"
    assert sum(s == "done" for s in status.values()) == 19
    flags = store.flags()
    assert [(f["article_id"], f["labeler"], f["note"]) for f in flags] == \
        [(flagged, "ana", "Is a chip deal 'industry' or 'products'?")]
    assert page.dialogs == []


def test_hostile_article_html_renders_as_inert_text(tmp_path, page):
    db = tmp_path / "label.db"
    store = demo_store(db)
    store.add_article(xss_article())
    store.enqueue([("hostile-1", "estimation", 100.0, "test")])
    token = add_labeler(store, "ana")
    with serving(db) as url:
        log_in(page, url, token)
        assert shown(page) == "hostile-1"
        text = page.inner_text("#article-text")
        assert "<script>alert('script ran')</script>" in text and "<img src=x onerror=alert('img ran')>" in text
        assert '<img src=x onerror="alert(1)">' in page.inner_text("#article-title")
        assert page.locator("#article img, #article script, #injected").count() == 0
        assert page.locator("#article-text mark").all_inner_texts() == ["OpenAI"]
        page.wait_for_timeout(300)
    assert page.dialogs == []
