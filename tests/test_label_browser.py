"""The labeling page in real headless Chromium (Debian's chromium, driven by Playwright): keyboard
only."""

from __future__ import annotations

import csv
import io
import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from label_support import (
    GUIDE,
    GUIDE_PATH,
    ROOT,
    add_labeler,
    demo_store,
    prepare,
    serving,
    xss_article,
)

CHROMIUM = "/usr/bin/chromium"
NEWSCLF = str(Path(sys.executable).with_name("newsclf"))
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM),
    reason=f"{CHROMIUM} is missing (apt-get install chromium); CI installs it",
)


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="the playwright package is not installed"
    )
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


def units_shown(page) -> list[tuple[str, str]]:
    """(scheme, target) of every unit the page asks about, in page order."""
    return [
        (f.get_attribute("data-scheme"), f.get_attribute("data-target") or "")
        for f in page.locator("fieldset.scheme").all()
    ]


def ticked(page) -> dict[tuple[str, str], tuple[str, ...]]:
    """What the page has ticked, per unit (label ids; 'none of these' is an empty tuple)."""
    out = {}
    for f in page.locator("fieldset.scheme").all():
        key = (f.get_attribute("data-scheme"), f.get_attribute("data-target") or "")
        boxes = f.locator("input[data-key]:checked").all()
        out[key] = tuple(
            sorted(
                b.get_attribute("value").partition(":")[2]
                for b in boxes
                if b.get_attribute("value") != "1"
            )
        )
    return out


TOPIC_KEYS = {lab.key: lab.id for lab in GUIDE.scheme("topics").labels}
STANCE_KEYS = {lab.key: lab.id for lab in GUIDE.scheme("stance").labels}
TARGETS = [t.name for t in GUIDE.scheme("stance").targets]


def code_by_keyboard(page, i: int) -> dict[tuple[str, str], tuple[str, ...]]:
    """Code the shown article by keys alone; returns the labels pressed per unit."""
    units = units_shown(page)
    choice: dict[tuple[str, str], tuple[str, ...]] = {
        ("about_ai", ""): ("yes",)
    }  # coding a topic answers the gate
    if i % 7 == 3:
        page.keyboard.press("0")  # none of these
        choice[("topics", "")] = ()
    else:
        keys = sorted({"12345"[i % 5], "12345"[(i * 3 + 1) % 5]})
        for key in keys:
            page.keyboard.press(key)
        page.keyboard.press("6")  # 'other' is exclusive: it unticks the others ...
        for key in keys:  # ... and ticking topics again unticks 'other'
            page.keyboard.press(key)
        choice[("topics", "")] = tuple(sorted(TOPIC_KEYS[k] for k in keys))
    for n, (scheme, target) in enumerate(u for u in units if u[0] == "stance"):
        key = "pcnx"[(i + n) % 4]
        page.keyboard.press(key)  # answers the active target, then moves on to the next
        choice[(scheme, target)] = (STANCE_KEYS[key],)
    return choice


def code_by_mouse(page, i: int) -> dict[tuple[str, str], tuple[str, ...]]:
    """Code the shown article by clicks alone, choosing other topics than the keyboard coder did."""
    choice: dict[tuple[str, str], tuple[str, ...]] = {}
    for f in page.locator("fieldset.scheme").all():
        scheme, target = f.get_attribute("data-scheme"), f.get_attribute("data-target") or ""
        if scheme == "about_ai":
            f.locator("input[value='about_ai:yes']").click()
            choice[(scheme, target)] = ("yes",)
        elif scheme == "topics":
            label = ["labor", "safety", "regulation", "industry", "products"][i % 5]
            f.locator(f"input[value='topics:{label}']").click()
            choice[(scheme, target)] = (label,)
        else:
            f.locator("input[value='stance:neutral']").click()
            choice[(scheme, target)] = ("neutral",)
    return choice


def expected_rows(choice, article_text: str) -> dict[tuple[str, str], tuple[str, ...]]:
    """The annotations a save stores: the choices, and every unmentioned target as not mentioned (no
    labels)."""
    rows = dict(choice)
    for t in TARGETS:
        rows.setdefault(("stance", t), ())
    return rows


def test_code_by_keyboard_and_mouse_undo_review_and_export_with_three_targets(
    tmp_path, page, browser
):
    db = tmp_path / "label.db"
    store = demo_store(db)
    tokens = {
        name: add_labeler(store, name, role)
        for name, role in [("ana", "labeler"), ("budi", "labeler"), ("rita", "reviewer")]
    }
    prepare(store, reliability=30, estimation=0, seed=0)  # every item is double-coded
    saved: dict[str, dict[tuple[str, str], tuple[str, ...]]] = {"ana": {}, "budi": {}}
    expected: dict[tuple[str, str, str, str], tuple[str, ...]] = {}
    with serving(db) as url:
        log_in(page, url, tokens["ana"])
        assert "Coded today: 0" in page.inner_text("#progress")
        for i in range(20):
            article_id = shown(page)
            assert article_id not in saved["ana"], "an article came back to the same labeler"
            shown_targets = [t for s, t in units_shown(page) if s == "stance"]
            assert set(shown_targets) <= set(TARGETS)
            # Mentions are highlighted per target; a target without a mention is not asked.
            for t in shown_targets:
                assert page.locator(f"#article mark[title='{t}']").count() > 0
            choice = code_by_keyboard(page, i)
            assert ticked(page) == choice
            with page.expect_navigation():
                page.keyboard.press("Enter")
            saved["ana"][article_id] = choice
            for (scheme, target), labels in expected_rows(choice, "").items():
                expected[(article_id, scheme, target, "ana")] = labels
        assert "Coded today: 20" in page.inner_text("#progress")
        # Undo brings the last article back with its labels ticked; saving again keeps them.
        with page.expect_navigation():
            page.keyboard.press("u")
        assert shown(page) == article_id and ticked(page) == saved["ana"][article_id]
        with page.expect_navigation():
            page.keyboard.press("Enter")
        # The codebook is one key away, with the guide's description and the labels' examples.
        page.keyboard.press("?")
        help_text = page.inner_text("#help")
        assert (
            "Code the article as a whole" in help_text
            and "Examples:" in help_text
            and "Include:" in help_text
        )
        assert "Elon Musk (also Musk)" in help_text
        page.keyboard.press("?")
        assert page.is_hidden("#help")

        # budi codes five of the same articles with the mouse only: clicks on boxes and on Save.
        ctx = browser.new_context()
        mouse = ctx.new_page()
        mouse.set_default_timeout(10000)
        mouse.goto(url + "/login")
        mouse.fill("#token", tokens["budi"])
        with mouse.expect_navigation():
            mouse.click("button[type=submit]")
        for i in range(5):
            article_id = shown(mouse)
            assert article_id in saved["ana"]
            assert mouse.locator(
                "fieldset[data-scheme=stance] input[type=radio]"
            ).count() == 4 * len([u for u in units_shown(mouse) if u[0] == "stance"])
            assert mouse.locator("fieldset[data-scheme=about_ai] input[type=radio]").count() == 2
            choice = code_by_mouse(mouse, i)
            with mouse.expect_navigation():
                mouse.click("#save")
            saved["budi"][article_id] = choice
            for (scheme, target), labels in expected_rows(choice, "").items():
                expected[(article_id, scheme, target, "budi")] = labels
        ctx.close()

    # Which units disagree, as the reviewer will see them.
    disagree = sorted(
        (a, s, t)
        for a in saved["budi"]
        for (s, t) in saved["budi"][a]
        if saved["ana"][a].get((s, t), ()) != saved["budi"][a][(s, t)]
    )
    assert len(disagree) >= 5
    review_page = browser.new_context().new_page()
    review_page.set_default_timeout(10000)
    gold: dict[tuple[str, str, str], tuple[str, ...]] = {}
    with serving(db) as url:
        review_page.goto(url + "/login")
        review_page.keyboard.type(tokens["rita"])
        with review_page.expect_navigation():
            review_page.keyboard.press("Enter")
        review_page.goto(url + "/review")
        for step in range(5):
            article_id = review_page.get_attribute("#article", "data-article-id")
            fs = review_page.locator("fieldset.scheme")
            scheme, target = fs.get_attribute("data-scheme"), fs.get_attribute("data-target") or ""
            before = ticked(review_page)[(scheme, target)]
            if step in (0, 3):  # accept the preselected majority (on a tie there is none: choose)
                if not before:
                    review_page.keyboard.press("n" if scheme == "stance" else "1")
                    before = ("neutral",) if scheme == "stance" else ("labor",)
                decision, method = before, "accepted majority"
            elif step == 2 and scheme == "topics":  # none of these
                review_page.keyboard.press("0")
                decision, method = (), "none of these"
            else:  # change it
                if scheme == "topics":
                    review_page.keyboard.press("3")
                    decision = tuple(sorted(set(before) ^ {"regulation"})) or None
                    if decision is None:
                        review_page.keyboard.press("4")
                        decision = ("industry",)
                else:
                    review_page.keyboard.press("c")
                    decision = ("against",)
                method = None
            assert ticked(review_page)[(scheme, target)] == decision
            with review_page.expect_navigation():
                review_page.keyboard.press("Enter")
            confirm = review_page.inner_text("#decided")
            assert confirm.startswith("Saved:") and scheme in confirm
            assert (", ".join(decision) or "none of these") in confirm
            if method:
                assert method in confirm or (
                    method == "accepted majority" and "chosen by reviewer" in confirm
                )
            gold[(article_id, scheme, target)] = decision
        assert review_page.url.endswith("/review") or "saved=" in review_page.url
    assert len(gold) == 5

    # What the export says is exactly what was pressed, clicked and decided.
    out = tmp_path / "export.jsonl"
    r = subprocess.run(
        [NEWSCLF, "--db", str(db), "export", "--labels", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    got_coded, got_gold = {}, {}
    for line in out.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        for a in row.get("annotations", []):
            if a["gold"]:
                got_gold[(row["id"], a["scheme"], a["target"] or "")] = tuple(a["labels"])
            else:
                got_coded[(row["id"], a["scheme"], a["target"] or "", a["labeler"])] = tuple(
                    a["labels"]
                )
    assert got_coded == expected
    assert got_gold == gold
    assert page.dialogs == []


def test_errors_are_pages_and_exclusive_labels_stand_alone(tmp_path, page):
    db = tmp_path / "label.db"
    store = demo_store(db)
    token = add_labeler(store, "ana")
    prepare(store, estimation=5)
    with serving(db) as url:
        log_in(page, url, token)
        # Saving with a scheme unanswered says what is missing, in the page.
        page.keyboard.press("Enter")
        assert "Still to answer: about_ai" in page.inner_text("#status")
        # 'Other' never combines: ticking it unticks the rest, and a topic unticks it.
        page.keyboard.press("1")
        page.keyboard.press("2")
        page.keyboard.press("6")
        assert ticked(page)[("topics", "")] == ("other",)
        page.keyboard.press("2")
        assert ticked(page)[("topics", "")] == ("safety",)
        page.keyboard.press("0")
        assert ticked(page)[("topics", "")] == ()
        # A login that ended while the page was open: the save answers with a page, never JSON.
        store.conn.execute("DELETE FROM label_sessions")
        for f in page.locator("fieldset[data-kind=single]").all():
            f.locator("input[type=radio]").first.click()
        with page.expect_navigation():
            page.click("#save")
        text = page.inner_text("body")
        assert "log in again" in text and "{" not in text
        assert page.locator("#back-link").count() == 1


def test_an_empty_page_says_why(tmp_path, page):
    db = tmp_path / "label.db"
    store = demo_store(db)
    token = add_labeler(store, "ana")
    with serving(db) as url:
        log_in(page, url, token)
        assert "Nothing left to code" in page.inner_text("h1")
        assert "No articles are queued" in page.inner_text("#reasons")


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
        assert (
            "<script>alert('script ran')</script>" in text
            and "<img src=x onerror=alert('img ran')>" in text
        )
        assert '<img src=x onerror="alert(1)">' in page.inner_text("#article-title")
        assert page.locator("#article img, #article script, #injected").count() == 0
        assert page.locator("#article-text mark").all_inner_texts() == ["OpenAI"]
        page.wait_for_timeout(300)
    assert page.dialogs == []


def readme_block(heading: str) -> list[str]:
    """The shell commands of the first code block under a README heading, as written."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index(heading) :]
    block = section[section.index("```sh\n") + 6 :]
    block = block[: block.index("```")]
    return [
        line.split("  #")[0].strip()
        for line in block.splitlines()
        if line.strip() and not line.startswith("#")
    ]


def test_the_readmes_labeling_commands_as_written_serve_articles_on_the_demo(
    tmp_path, page, batch_model
):
    """The README's labeling section, run as written in a folder holding what `make demo` leaves.

    The demo's store comes from the demo's own import (coders' labels for the earlier months only);
    its model is a model trained on the same corpus (training the demo's own would take a minute).
    """
    from newsclf.demo import DEFAULT_CORPUS, import_demo

    import_demo(tmp_path / "demo-output" / "newsclf.db", DEFAULT_CORPUS, GUIDE, echo=lambda _: None)
    shutil.copytree(batch_model, tmp_path / "demo-output" / "model")
    (tmp_path / "label_guides").mkdir()
    shutil.copy(GUIDE_PATH, tmp_path / "label_guides")
    env = {k: v for k, v in os.environ.items() if k != "NEWSCLF_DB"}
    env["PATH"] = str(Path(NEWSCLF).parent) + os.pathsep + env.get("PATH", "")
    commands = readme_block("## The labeling page")
    assert commands[0] == "export NEWSCLF_DB=demo-output/newsclf.db"
    env["NEWSCLF_DB"] = commands[0].partition("=")[2]
    assert [c.split()[:3] for c in commands[1:]] == [["newsclf", "labelers", "add"]] * 2 + [
        ["newsclf", "label", "serve"]
    ]
    tokens = {}
    for line in commands[1:3]:
        r = subprocess.run(
            shlex.split(line), cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
        )
        assert r.returncode == 0, r.stderr
        tokens[shlex.split(line)[3]] = r.stdout.splitlines()[0].strip()
    with socket.socket() as sock:  # the one change: a free port instead of 8000
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    serve = shlex.split(commands[3].replace("--port 8000", f"--port {port}"))
    proc = subprocess.Popen(
        serve, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(url + "/login", timeout=2)
                break
            except requests.ConnectionError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()[1]
                time.sleep(0.2)
        log_in(page, url, tokens["ana"])
        assert page.locator("#article").count() == 1, page.inner_text(
            "main"
        )  # an article, not "nothing left"
        assert shown(page)
        assert page.locator("fieldset.scheme").count() >= 1
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    assert "reliability sample of" in err and "queued: reliability +" in err


def test_skip_flag_agreement_and_logout_by_keys_buttons_and_touch(tmp_path, browser):
    db = tmp_path / "label.db"
    store = demo_store(db)
    tokens = {"ana": add_labeler(store, "ana"), "rita": add_labeler(store, "rita", "reviewer")}
    prepare(store, reliability=4, estimation=6)
    context = browser.new_context(has_touch=True, viewport={"width": 420, "height": 860})  # a phone
    phone = context.new_page()
    phone.set_default_timeout(10000)
    with serving(db) as url:
        log_in(phone, url, tokens["ana"])
        # Skip by key, then by tapping the button.
        first = shown(phone)
        with phone.expect_navigation():
            phone.keyboard.press("s")
        second = shown(phone)
        with phone.expect_navigation():
            phone.tap("button[data-action=skip]")
        third = shown(phone)
        assert len({first, second, third}) == 3
        # Flag by key (Escape cancels, Enter sends), then by the buttons.
        phone.keyboard.press("f")
        phone.keyboard.type("draft")
        phone.keyboard.press("Escape")
        assert phone.is_hidden("#flag")
        phone.keyboard.press("f")
        phone.keyboard.type("Is a chip deal 'industry' or 'products'?")
        phone.keyboard.press("Enter")
        # Locator waits, not wait_for_function: its polling evaluates a string, which the page's
        # CSP (no 'unsafe-eval') refuses whenever the condition is not already true.
        phone.locator("#status", has_text="Flagged").wait_for()
        phone.tap("button[data-action=flag]")
        phone.fill("#flag-note", "second note, by touch")
        phone.tap("button[data-action=send-flag]")
        phone.locator("#flag").wait_for(state="hidden")
        # Code the article by touch alone: tap labels, tap Save.
        phone.tap("fieldset[data-scheme=topics] input[value='topics:labor']")
        for f in phone.locator("fieldset[data-kind=single][data-scheme=stance]").all():
            f.locator("input[value='stance:neutral']").tap()
        with phone.expect_navigation():
            phone.tap("#save")
        assert shown(phone) != third
        # The codebook by its button, closed by its own button.
        phone.tap("button[data-action=help]")
        assert phone.is_visible("#help")
        phone.tap("#help button.close")
        assert phone.is_hidden("#help")
        with phone.expect_navigation():
            phone.tap("header button[type=submit]")  # log out
        assert phone.url.endswith("/login")
    context.close()
    assert [(f["article_id"], f["note"]) for f in store.flags()] == [
        (third, "Is a chip deal 'industry' or 'products'?"),
        (third, "second note, by touch"),
    ]
    status = {a["article_id"]: a["status"] for a in store.assignments("ana")}
    assert status[first] == status[second] == "skipped" and status[third] == "done"
    assert {(a.scheme, a.labels) for a in store.annotations(article_id=third) if a.labels} >= {
        ("topics", ("labor",))
    }
    assert store.conn.execute("SELECT COUNT(*) FROM label_sessions").fetchone()[0] == 0


def test_the_agreement_page_shows_alpha_to_a_reviewer(tmp_path, page):
    db = tmp_path / "label.db"
    store = demo_store(db)
    from newsclf.records import import_file

    import_file(store, ROOT / "corpora" / "ai-discourse-demo" / "labels" / "coder_a.jsonl", GUIDE)
    import_file(store, ROOT / "corpora" / "ai-discourse-demo" / "labels" / "coder_b.jsonl", GUIDE)
    token = add_labeler(store, "rita", "reviewer")
    with serving(db) as url:
        log_in(page, url, token)
        # alpha with bootstrap intervals: seconds, on a loaded machine more
        with page.expect_navigation(timeout=60000):
            page.click("nav a[href='/agreement']")
        text = page.inner_text("main")
        assert "Krippendorff" in text and "topics" in text and "stance" in text
        assert page.locator("table tr").count() > 5


def test_the_relevance_gate_is_one_key_and_a_no_ends_the_item(tmp_path, page):
    guide = GUIDE  # the project's guide asks about_ai first
    assert guide.gate is not None and guide.gate.name == "about_ai"
    db = tmp_path / "label.db"
    store = demo_store(db)
    token = add_labeler(store, "ana")
    prepare(store, estimation=6)
    with serving(db, guide=guide) as url:
        log_in(page, url, token)
        assert units_shown(page)[0] == ("about_ai", "")
        # 1. One key: 'o' (not about AI) saves and moves on.
        first = shown(page)
        with page.expect_navigation():
            page.keyboard.press("o")
        # 2. Coding a topic first answers the gate 'yes'.
        second = shown(page)
        assert second != first
        page.keyboard.press("1")
        assert ticked(page)[("about_ai", "")] == ("yes",)
        for _ in [u for u in units_shown(page) if u[0] == "stance"]:
            page.keyboard.press("n")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        # 3. By mouse: 'No' hides the other schemes; Save stores the gate alone.
        third = shown(page)
        page.click("fieldset[data-scheme=about_ai] input[value='about_ai:no']")
        assert page.is_hidden("fieldset[data-scheme=topics]")
        page.click("fieldset[data-scheme=about_ai] input[value='about_ai:yes']")
        assert page.is_visible("fieldset[data-scheme=topics]")
        page.click("fieldset[data-scheme=about_ai] input[value='about_ai:no']")
        with page.expect_navigation():
            page.click("#save")
        # Undo brings the third back, closed as it was saved.
        with page.expect_navigation():
            page.keyboard.press("u")
        assert shown(page) == third and ticked(page)[("about_ai", "")] == ("no",)
        assert page.is_hidden("fieldset[data-scheme=topics]")
    got = {}
    for a in store.annotations():
        got.setdefault(a.article_id, {})[(a.scheme, a.target)] = a.labels
    assert got[first] == {("about_ai", ""): ("no",)}
    assert got[second][("about_ai", "")] == ("yes",) and got[second][("topics", "")] == ("labor",)
    assert {k[0] for k in got[second]} == {"about_ai", "topics", "stance"}
    assert third not in got  # undone


def test_explore_search_filter_open_queue_and_export(tmp_path, browser):
    db = tmp_path / "label.db"
    store = demo_store(db)
    tokens = {
        "rita": add_labeler(store, "rita", "reviewer"),
        "ana": add_labeler(store, "ana"),
        "rea": add_labeler(store, "rea", "researcher"),
    }
    from newsclf.search import Filters, to_match

    expected = store.search_ids(to_match("pekerja* OR upah"), Filters(outlets=("Kabar Nusa",)))
    assert 2 <= len(expected) < 25
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(10000)
    with serving(db) as url:
        log_in(page, url, tokens["rita"])
        with page.expect_navigation():
            page.click("nav a[href='/explore']")
        page.fill("#q", "pekerja* OR upah")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        everywhere = int(page.inner_text("#total b"))
        assert everywhere > len(expected) and page.locator("#attention svg rect").count() > 0
        page.select_option("#outlet", "Kabar Nusa")
        with page.expect_navigation():
            page.click("#search-button")
        shown_ids = [li.get_attribute("data-article-id") for li in page.locator("#hits li").all()]
        assert sorted(shown_ids) == expected and page.inner_text("#total b") == str(len(expected))
        assert page.locator("#hits mark").count() >= len(expected)  # every snippet shows its match
        # Open an article, come back.
        title = page.inner_text("#hits li .title >> nth=0")
        with page.expect_navigation():
            page.click("#hits li .title >> nth=0")
        assert page.inner_text("#article-title") == title
        with page.expect_navigation():
            page.go_back()
        # Export the result set.
        with page.expect_download() as download:
            page.click("#export-csv")
        rows = list(
            csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8")))
        )
        assert sorted(r["id"] for r in rows) == expected and {r["outlet"] for r in rows} == {
            "Kabar Nusa"
        }
        # Queue it for labeling as a random estimation sample; a labeler is then served from it.
        page.fill("#queue-size", "2")
        page.select_option("#queue-kind", "estimation")
        with page.expect_navigation():
            page.click("#queue-button")
        assert "Queued for labeling: 2 articles" in page.inner_text("#queued")
        queued = {q["article_id"] for q in store.queued("estimation")}
        assert len(queued) == 2 and queued <= set(expected)
        labeler = browser.new_context().new_page()
        log_in(labeler, url, tokens["ana"])
        assert shown(labeler) in queued
        # A researcher explores and exports, but never codes and cannot queue.
        researcher = browser.new_context().new_page()
        researcher.goto(url + "/login")
        researcher.keyboard.type(tokens["rea"])
        with researcher.expect_navigation():
            researcher.keyboard.press("Enter")
        assert (
            researcher.url.endswith("/explore")
            and researcher.locator("nav a[href='/code']").count() == 0
        )
        researcher.fill("#q", "upah")
        with researcher.expect_navigation():
            researcher.keyboard.press("Enter")
        assert (
            researcher.locator("#queue-form").count() == 0
            and researcher.locator("#export-csv").count() == 1
        )
        # A query the index cannot read gets its reason in words and a way back, not a 500.
        researcher.fill("#q", "upah ,")
        with researcher.expect_navigation() as answer:
            researcher.keyboard.press("Enter")
        assert answer.value.status == 422
        assert "the search query is not valid" in researcher.inner_text("body")
    context.close()
