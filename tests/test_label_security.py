"""The labeling page over plain HTTP: login on every route, CSRF on every write, headers,
throttling, roles."""

from __future__ import annotations

import pytest
import requests
from label_support import (
    FORM_CSRF,
    GUIDE,
    add_labeler,
    current_answers,
    demo_store,
    login,
    prepare,
)

from newsclf.label.app import BackgroundServer, create_app
from newsclf.store import Annotation


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    db = tmp_path_factory.mktemp("sec") / "label.db"
    store = demo_store(db)
    tokens = {
        name: add_labeler(store, name, role)
        for name, role in [
            ("ana", "labeler"),
            ("budi", "labeler"),
            ("rita", "reviewer"),
            ("max", "labeler"),
        ]
    }
    prepare(store, reliability=4, estimation=4, seed=10)
    # A disagreement for the review route.
    a = store.queued("seed")[-1]["article_id"]
    store.add_annotations(
        [
            Annotation(a, "stance", ("favor",), "x1", "OpenAI"),
            Annotation(a, "stance", ("against",), "x2", "OpenAI"),
        ]
    )
    app = create_app(str(db), GUIDE)
    with BackgroundServer(app) as url:
        yield {"url": url, "store": store, "tokens": tokens, "review_item": a, "app": app}


def write_requests(site, item: str, form: list[tuple[str, str]] = ()) -> dict[str, dict]:
    """Every write route with a valid body (minus the CSRF token); `form` answers the item's coding
    form."""
    return {
        "/code/submit": {"article_id": item, "seconds": "2", **dict(form)},
        "/code/skip": {"article_id": item, "seconds": "1"},
        "/code/undo": {},
        "/code/flag": {"article_id": item, "note": "unclear"},
        "/review/decide": {
            "article_id": site["review_item"],
            "scheme": "stance",
            "target": "OpenAI",
            "label": ["favor"],
        },
        "/explore/queue": {"q": "OpenAI", "kind": "estimation", "size": "1"},
        "/logout": {},
    }


def post_routes() -> set[str]:
    app = create_app(":memory:", GUIDE)
    return {r.path for r in app.routes if "POST" in getattr(r, "methods", set())}


def test_the_write_list_covers_every_post_route(site):
    assert post_routes() == set(write_requests(site, "x")) | {"/login"}


@pytest.mark.parametrize(
    "route",
    [
        "/code/submit",
        "/code/skip",
        "/code/undo",
        "/code/flag",
        "/review/decide",
        "/explore/queue",
        "/logout",
    ],
)
def test_no_write_without_a_session_or_without_the_csrf_token(site, route):
    url, store = site["url"], site["store"]
    reviewing = route in ("/review/decide", "/explore/queue")
    who = "rita" if reviewing else "max"
    s, csrf = login(url, site["tokens"][who])
    item, form = current_answers(s, url) if not reviewing else (None, [])
    body = write_requests(site, item or "none", form)[route]
    _, other_csrf = login(url, site["tokens"]["budi"])
    snapshot = (
        len(store.annotations()),
        len(store.flags()),
        len(store.reviews()),
        sorted((a["article_id"], a["status"]) for a in store.assignments()),
    )
    # 1. No session at all, even with a token-looking field: 401.
    anon = requests.post(
        url + route, data={**body, "csrf_token": csrf}, allow_redirects=False, timeout=10
    )
    assert anon.status_code == 401
    # 2. A session but no CSRF token; 3. a wrong one (form field and header): 403.
    assert s.post(url + route, data=body, allow_redirects=False, timeout=10).status_code == 403
    assert (
        s.post(
            url + route, data={**body, "csrf_token": "x" * 43}, allow_redirects=False, timeout=10
        ).status_code
        == 403
    )
    assert (
        s.post(
            url + route,
            data=body,
            headers={"X-CSRF-Token": "nope"},
            allow_redirects=False,
            timeout=10,
        ).status_code
        == 403
    )
    # 4. Another session's token does not work either.
    assert (
        s.post(
            url + route, data={**body, "csrf_token": other_csrf}, allow_redirects=False, timeout=10
        ).status_code
        == 403
    )
    after = (
        len(store.annotations()),
        len(store.flags()),
        len(store.reviews()),
        sorted((a["article_id"], a["status"]) for a in store.assignments()),
    )
    assert after == snapshot, "a rejected write changed the store"
    # With the header the same write succeeds (the route works; only the token was missing).
    ok = s.post(
        url + route,
        data=body,
        headers={"X-CSRF-Token": csrf, "Accept": "application/json"},
        allow_redirects=False,
        timeout=10,
    )
    assert ok.status_code in (200, 303), ok.text


def test_login_needs_its_csrf_cookie_and_a_valid_token_and_is_throttled(site):
    url = site["url"]
    s = requests.Session()
    form = FORM_CSRF.search(s.get(url + "/login", timeout=10).text).group(1)
    assert (
        requests.post(
            url + "/login",
            data={"token": site["tokens"]["ana"], "csrf_token": form},
            allow_redirects=False,
            timeout=10,
        ).status_code
        == 403
    )  # no cookie: no login
    r = s.post(
        url + "/login",
        data={"token": site["tokens"]["ana"], "csrf_token": form},
        allow_redirects=False,
        timeout=10,
    )
    assert r.status_code == 303
    cookie = r.headers["set-cookie"]
    assert (
        "HttpOnly" in cookie
        and "SameSite=strict" in cookie.replace("Strict", "strict")
        and "Max-Age=" in cookie
    )
    # Wrong tokens: 401 five times, then the address must wait (even with the right token).
    t = requests.Session()
    form = FORM_CSRF.search(t.get(url + "/login", timeout=10).text).group(1)
    codes = [
        t.post(url + "/login", data={"token": "wrong", "csrf_token": form}, timeout=10).status_code
        for _ in range(5)
    ]
    assert codes == [401] * 5
    assert (
        t.post(
            url + "/login", data={"token": site["tokens"]["ana"], "csrf_token": form}, timeout=10
        ).status_code
        == 429
    )
    site["app"].state.label.throttle = type(
        site["app"].state.label.throttle
    )()  # let the other tests log in


def test_every_get_route_needs_login_and_every_response_has_the_security_headers(site):
    url = site["url"]
    app = create_app(":memory:", GUIDE)
    paths = {r.path for r in app.routes if "GET" in getattr(r, "methods", set())} | {
        "/openapi.json",
        "/nope",
    }
    for path in sorted(paths):
        r = requests.get(url + path, allow_redirects=False, timeout=10)
        if path == "/login":
            assert r.status_code == 200
        else:
            assert r.status_code == 401, path
        assert (
            "script-src 'self'" in r.headers["content-security-policy"]
            and "unsafe-inline" not in r.headers["content-security-policy"]
        )
        assert (
            r.headers["x-content-type-options"] == "nosniff"
            and r.headers["x-frame-options"] == "DENY"
        )
    html = requests.get(
        url + "/code", headers={"Accept": "text/html"}, allow_redirects=False, timeout=10
    )
    assert html.status_code == 303 and html.headers["location"] == "/login"
    assert requests.get(url + "/static/app.js", timeout=10).status_code == 200
    for escape in ("/static/../app.py", "/static/%2e%2e/app.py", "/static/..%2fapp.py"):
        assert requests.get(url + escape, timeout=10).status_code in (401, 404), escape


def test_roles_a_forged_cookie_and_logout(site):
    url = site["url"]
    s, csrf = login(url, site["tokens"]["ana"])
    assert s.get(url + "/agreement", timeout=10).status_code == 403
    assert s.get(url + "/review", timeout=10).status_code == 403
    store = site["store"]
    other = store.queued("seed")[0]["article_id"]
    store.add_annotations(
        [
            Annotation(other, "topics", ("labor",), "x1"),
            Annotation(other, "topics", ("safety",), "x2"),
        ]
    )
    r, _ = login(url, site["tokens"]["rita"])
    agreement = r.get(url + "/agreement", timeout=10)
    assert agreement.status_code == 200 and "Krippendorff" in agreement.text
    page = r.get(url + "/review", timeout=10)
    assert page.status_code == 200 and other in page.text
    forged = requests.Session()
    value = s.cookies.get("newsclf_session")
    forged.cookies.set(
        "newsclf_session", value[:-4] + ("0000" if not value.endswith("0000") else "1111")
    )
    assert forged.get(url + "/code", allow_redirects=False, timeout=10).status_code == 401
    assert (
        s.post(
            url + "/logout", data={"csrf_token": csrf}, allow_redirects=False, timeout=10
        ).status_code
        == 303
    )
    stale = requests.Session()
    stale.cookies.set("newsclf_session", value)
    assert (
        stale.get(url + "/code", allow_redirects=False, timeout=10).status_code == 401
    )  # the session is gone


def test_oversized_and_malformed_writes_get_client_errors(site):
    url = site["url"]
    s, csrf = login(url, site["tokens"]["budi"])
    h = {"X-CSRF-Token": csrf}
    assert (
        s.post(
            url + "/code/flag",
            data={"article_id": "x", "note": "n" * 1_100_000},
            headers=h,
            timeout=10,
        ).status_code
        == 413
    )
    assert (
        s.post(
            url + "/code/submit",
            data={"article_id": "x", "label": "topics:nope"},
            headers=h,
            timeout=10,
        ).status_code
        == 422
    )
    assert (
        s.post(url + "/code/submit", data={"article_id": "x"}, headers=h, timeout=10).status_code
        == 422
    )
    assert (
        s.post(
            url + "/code/submit",
            data={
                "article_id": "not-mine",
                "label": ["about_ai:yes", "stance:favor"],
                "none/topics": "1",
            },
            headers=h,
            timeout=10,
        ).status_code
        == 409
    )
    assert (
        s.post(
            url + "/code/flag", data={"article_id": "no-such", "note": "x"}, headers=h, timeout=10
        ).status_code
        == 404
    )


def test_labelers_add_prints_a_token_once_and_stores_only_its_hash(tmp_path, run):
    db = tmp_path / "cli.db"
    r = run("labelers", "add", "ana", "--role", "reviewer", db=db)
    assert r.exit_code == 0
    token = r.output.splitlines()[0].strip()
    assert len(token) >= 40
    from newsclf.label.auth import token_hash
    from newsclf.store import Store

    store = Store(db)
    assert store.labeler_by_token_hash(token_hash(token)) == {"name": "ana", "role": "reviewer"}
    dump = "\n".join(store.conn.iterdump())
    assert token not in dump and token_hash(token) in dump
    assert run("labelers", "list", db=db).output.startswith("ana\treviewer")
    assert run("labelers", "add", "x", "--role", "boss", db=db).exit_code == 2


def test_sessions_expire(tmp_path):
    db = tmp_path / "e.db"
    store = demo_store(db)
    prepare(store, estimation=5)
    token = add_labeler(store, "eve")
    store.close()
    # Sessions of two seconds: alive at once, gone after they lapse, on the server's own clock.
    with BackgroundServer(create_app(str(db), GUIDE, session_hours=2 / 3600)) as url:
        s, _ = login(url, token)
        assert s.get(url + "/code", allow_redirects=False, timeout=10).status_code == 200
        import time

        time.sleep(2.5)
        assert s.get(url + "/code", allow_redirects=False, timeout=10).status_code == 401


def failed_logins(url: str, forwarded_for: list[str]) -> list[int]:
    """A wrong token once per X-Forwarded-For value; the status codes."""
    t = requests.Session()
    form = FORM_CSRF.search(t.get(url + "/login", timeout=10).text).group(1)
    return [
        t.post(
            url + "/login",
            data={"token": "wrong", "csrf_token": form},
            headers={"X-Forwarded-For": ip},
            allow_redirects=False,
            timeout=10,
        ).status_code
        for ip in forwarded_for
    ]


def right_login(url: str, token: str, forwarded_for: str) -> int:
    t = requests.Session()
    form = FORM_CSRF.search(t.get(url + "/login", timeout=10).text).group(1)
    return t.post(
        url + "/login",
        data={"token": token, "csrf_token": form},
        headers={"X-Forwarded-For": forwarded_for},
        allow_redirects=False,
        timeout=10,
    ).status_code


def test_the_login_throttle_counts_the_socket_peer_unless_a_proxy_is_trusted(tmp_path):
    """Issue #35: a new X-Forwarded-For per attempt bypassed the throttle from loopback."""
    db = tmp_path / "t.db"
    store = demo_store(db)
    token = add_labeler(store, "ana")
    store.close()
    with BackgroundServer(create_app(str(db), GUIDE)) as url:
        assert failed_logins(url, [f"10.0.0.{i}" for i in range(5)]) == [401] * 5
        assert (
            right_login(url, token, "10.0.0.99") == 429
        )  # one socket peer: blocked whatever the header says
    with BackgroundServer(create_app(str(db), GUIDE), trusted_proxy="127.0.0.1") as url:
        assert failed_logins(url, ["10.0.0.1"] * 6) == [401] * 5 + [429]
        assert (
            right_login(url, token, "10.0.0.2") == 303
        )  # behind the named proxy, the header names the client


def test_the_throttle_table_is_bounded_and_keeps_recent_offenders():
    from newsclf.label.auth import Throttle

    throttle = Throttle(limit=2, window=60, max_keys=100)
    throttle.failed("attacker")
    throttle.failed("attacker")
    for i in range(1_000):
        assert not throttle.blocked(f"passer-by {i}")  # asking adds nothing
        throttle.failed(f"spoofed {i}")
    assert len(throttle) == 100
    throttle.failed("attacker")
    throttle.failed("attacker")
    assert throttle.blocked("attacker")


def test_a_new_token_revoke_and_remove_end_the_labelers_sessions(tmp_path, run):
    from label_support import current_item

    db = tmp_path / "s.db"
    store = demo_store(db)
    prepare(store, estimation=5)
    token = add_labeler(store, "ana")
    with BackgroundServer(create_app(str(db), GUIDE)) as url:
        s, _ = login(url, token)
        assert s.get(url + "/code", allow_redirects=False, timeout=10).status_code == 200
        new = run("labelers", "add", "ana", db=db)
        assert new.exit_code == 0
        assert (
            s.get(url + "/code", allow_redirects=False, timeout=10).status_code == 401
        )  # not 12 more hours

        s, _ = login(url, new.output.splitlines()[0].strip())
        assert run("labelers", "revoke", "ana", db=db).exit_code == 0
        assert s.get(url + "/code", allow_redirects=False, timeout=10).status_code == 401
        assert right_login(url, new.output.splitlines()[0].strip(), "x") == 401  # the token is void

        s, _ = login(url, run("labelers", "add", "ana", db=db).output.splitlines()[0].strip())
        leased = current_item(s, url)
        coded = next(a for a in store.article_ids() if a != leased)
        store.add_annotations([Annotation(coded, "topics", ("labor",), "ana")])
        assert [a["article_id"] for a in store.assignments("ana")] == [leased]
        removed = run("labelers", "remove", "ana", db=db)
        assert removed.exit_code == 0 and "their annotations stay" in removed.output
        assert s.get(url + "/code", allow_redirects=False, timeout=10).status_code == 401
    assert store.assignments("ana") == []  # the lease went back to the queue
    assert [a.article_id for a in store.annotations() if a.labeler == "ana"] == [coded]
    assert "ana" not in [r["name"] for r in store.labelers()]
    missing = run("labelers", "remove", "ana", db=db)
    assert missing.exit_code == 1 and "no labeler named 'ana'" in missing.output


def test_flags_only_on_the_labelers_leased_article_and_rate_limited(tmp_path):
    from label_support import current_item

    db = tmp_path / "f.db"
    store = demo_store(db)
    prepare(store, estimation=5)
    token = add_labeler(store, "ana")
    other = next(
        a
        for a in store.article_ids()
        if a not in {q["article_id"] for q in store.queued("estimation")}
    )
    with BackgroundServer(create_app(str(db), GUIDE)) as url:
        s, csrf = login(url, token)
        item = current_item(s, url)
        h = {"X-CSRF-Token": csrf}
        r = s.post(
            url + "/code/flag", data={"article_id": other, "note": "spam"}, headers=h, timeout=10
        )
        assert r.status_code == 409 and "only the article you are coding" in r.text
        codes = [
            s.post(
                url + "/code/flag",
                data={"article_id": item, "note": f"note {i}"},
                headers=h,
                timeout=10,
            ).status_code
            for i in range(21)
        ]
        assert codes == [200] * 20 + [429]
    assert [f["article_id"] for f in store.flags()] == [item] * 20
