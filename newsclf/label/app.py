"""The labeling page: FastAPI routes over the store, Jinja2 templates (autoescaped) and a little
plain JS.

Security, in one place (`Guard`, a plain ASGI middleware, so no route can forget it):
every path except /login and /static needs a live session; every write (any method but GET/HEAD/
OPTIONS) must carry the session's CSRF token in the X-CSRF-Token header or a `csrf_token` form field
(the login form: the token of its own SameSite cookie); request bodies are capped at 1 MB; every
response gets a Content-Security-Policy without inline script, X-Content-Type-Options: nosniff,
X-Frame-Options: DENY and Referrer-Policy: no-referrer. Failed logins are throttled per address.

Time on an item: the page counts only time while it is visible and there was keyboard or mouse
activity in the last 60 seconds (IDLE_CAP_SECONDS), and the server caps one item at an hour.
"""

from __future__ import annotations

import hashlib
import html
import secrets
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import jinja2
from fastapi import Depends, FastAPI, Form, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from newsclf.article import Article
from newsclf.errors import InputError
from newsclf.guide import Guide, Scheme
from newsclf.label import auth
from newsclf.label.explore import add_explore
from newsclf.label.queue import highlight, kind_order, lease_next, suggestions
from newsclf.store import Annotation, Store

HERE = Path(__file__).resolve().parent
IDLE_CAP_SECONDS = 60
MAX_ITEM_SECONDS = 3600.0
MAX_BODY = 1_000_000
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]
PUBLIC_PATHS = ("/login",)
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class LabelApp:
    """The page's settings and its per-thread store connections (SQLite connections stay in their
    thread)."""

    def __init__(
        self,
        db: str,
        guide: Guide,
        model: Any = None,
        overlap: int = 2,
        lease_seconds: float = 1800,
        session_hours: float = 12,
        secure_cookie: bool = False,
    ):
        self.db, self.guide, self.model, self.overlap = db, guide, model, overlap
        self.lease_seconds, self.session_seconds, self.secure_cookie = (
            lease_seconds,
            session_hours * 3600,
            secure_cookie,
        )
        self._local = threading.local()
        self.secret = self.store.label_setting("cookie_secret", lambda: secrets.token_hex(32))
        self.throttle = (
            auth.Throttle()
        )  # failed logins per socket peer (see serve: no proxy headers by default)
        self.flag_limit = auth.Throttle(limit=20, window=600)  # flags per labeler

    @property
    def store(self) -> Store:
        """This thread's store connection."""
        store = getattr(self._local, "store", None)
        if store is None:
            store = self._local.store = Store(self.db)
        return store

    def session(self, cookie: str | None) -> dict[str, Any] | None:
        """The live session a cookie names, or None."""
        sid = auth.unsign(self.secret, cookie)
        return self.store.get_session(hashlib.sha256(sid.encode()).hexdigest()) if sid else None


class Guard:
    """Login on every non-public path, CSRF on every write, a body cap and security headers (plain
    ASGI)."""

    def __init__(self, app: Any, state: LabelApp):
        self.app, self.state = app, state

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in message.get("headers", [])}
                extra = [h for h in SECURITY_HEADERS if h[0] not in names]
                if not scope["path"].startswith("/static/"):
                    extra.append((b"cache-control", b"no-store"))
                elif b"cache-control" not in names:
                    # Pages name static files with a digest of their content (?v=...), so a browser
                    # may
                    # keep them: one article to the next then costs no revalidation round trips.
                    extra.append((b"cache-control", b"public, max-age=86400, immutable"))
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        path, method = scope["path"], scope["method"]
        headers = {
            k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])
        }
        cookies = _cookies(headers.get("cookie", ""))
        session = self.state.session(cookies.get(auth.SESSION_COOKIE))
        scope.setdefault("state", {})["user"] = session
        public = path in PUBLIC_PATHS or path.startswith("/static/")
        if session is None and not public:
            if method in SAFE_METHODS and "text/html" in headers.get("accept", ""):
                response: Response = RedirectResponse("/login", status_code=303)
            else:
                response = _error(
                    headers,
                    401,
                    "your login has ended (logged out or expired): log in again; "
                    "what you had ticked on this article was not saved",
                )
            return await response(scope, receive, send_with_headers)
        if method in SAFE_METHODS:
            return await self.app(scope, receive, send_with_headers)
        body = b""
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > MAX_BODY:
                return await _error(headers, 413, "request too large")(
                    scope, receive, send_with_headers
                )
        token = headers.get(auth.CSRF_HEADER)
        if token is None and headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"
        ):
            token = (parse_qs(body.decode("utf-8", "replace")).get(auth.CSRF_FIELD) or [None])[0]
        expected = (
            cookies.get(auth.LOGIN_COOKIE) if path in PUBLIC_PATHS else (session or {}).get("csrf")
        )
        if not auth.same(token, expected):
            return await _error(headers, 403, "missing or wrong CSRF token; reload the page")(
                scope, receive, send_with_headers
            )
        sent = False

        async def replay() -> dict:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send_with_headers)


def _back(request: Request) -> str:
    """Where an error page's link leads: the page the failed action came from (no Referer is ever
    sent)."""
    return "/review" if request.url.path.startswith("/review") else "/code"


def _error(headers: dict[str, str], status: int, message: str) -> Response:
    """The guard's refusal: a small page for a person's browser, JSON for scripts."""
    accept = headers.get("accept", "")
    if "text/html" in accept and "application/json" not in accept:
        body = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Not'
            ' done</title><link rel="stylesheet"'
            ' href="/static/style.css"></head><body><main><section class="error-page"><h1>Not'
            f' done</h1><p class="error" role="alert">{html.escape(message)}</p><p><a href="/code"'
            ' id="back-link">Back to the page</a></p></section></main></body></html>'
        )
        return HTMLResponse(body, status_code=status)
    return JSONResponse({"detail": message}, status_code=status)


def _cookies(header: str) -> dict[str, str]:
    out = {}
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        if name and name not in out:
            out[name] = value
    return out


def create_app(db: str, guide: Guide, **settings: Any) -> FastAPI:
    """The labeling app over the store at `db`, coding by `guide`; `settings` are LabelApp's
    (model for suggestions, overlap, lease_seconds, session_hours, secure_cookie)."""
    state = LabelApp(db, guide, **settings)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True)
    templates = Jinja2Templates(env=env)
    app = FastAPI(title="newsclf labeling", docs_url=None, redoc_url=None)
    app.state.label = state
    app.add_middleware(Guard, state=state)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    schemes = [_scheme_view(s) for s in guide.schemes]
    target_index = {t["name"]: t["index"] for t in target_views(guide)}
    static_version = hashlib.sha256(
        b"".join((HERE / "static" / n).read_bytes() for n in ("app.js", "style.css"))
    ).hexdigest()[:12]
    env.filters["when"] = when

    def user(request: Request) -> dict[str, Any]:
        u = request.scope.get("state", {}).get("user")
        if u is None:  # Guard already answered; kept for clarity
            raise HTTPException(401, "log in first")
        return u

    def reviewer(request: Request) -> dict[str, Any]:
        u = user(request)
        if u["role"] not in ("reviewer", "admin"):
            raise HTTPException(403, "this page is for reviewers and admins")
        return u

    def role(request: Request, allowed: tuple[str, ...]) -> dict[str, Any]:
        u = user(request)
        if u["role"] not in allowed:
            raise HTTPException(
                403, f"this page is for {', '.join(allowed)}; you are logged in as a {u['role']}"
            )
        return u

    def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        u = request.scope.get("state", {}).get("user")
        return templates.TemplateResponse(
            request,
            name,
            {
                "user": u,
                "csrf": (u or {}).get("csrf", ""),
                "guide": guide,
                "target_index": target_index,
                "static_version": static_version,
                **context,
            },
            status_code=status,
        )

    def wants_html(request: Request) -> bool:
        accept = request.headers.get("accept", "")
        return "text/html" in accept and "application/json" not in accept

    @app.exception_handler(HTTPException)
    def http_error(request: Request, exc: HTTPException) -> Response:
        # A person's browser gets a page with the message and a way back, never raw JSON.
        if wants_html(request):
            return page(
                request,
                "error.html",
                status=exc.status_code,
                message=str(exc.detail),
                back=_back(request),
            )
        return JSONResponse(
            {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(InputError)
    def input_error(request: Request, exc: InputError) -> Response:
        # Input the store refuses (a search query FTS5 cannot read, say) is the asker's error, in
        # words: 422, never a 500.
        return http_error(request, HTTPException(422, str(exc)))

    @app.exception_handler(RequestValidationError)
    def form_error(request: Request, exc: RequestValidationError) -> Response:
        fields = ", ".join(str(e.get("loc", ["?"])[-1]) for e in exc.errors()) or "the form"
        message = f"the form was incomplete or malformed ({fields}); reload the page and try again"
        if wants_html(request):
            return page(request, "error.html", status=422, message=message, back=_back(request))
        return JSONResponse({"detail": exc.errors()}, status_code=422)

    def done(request: Request, where: str = "/code", **data: Any) -> Response:
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse({"ok": True, **data})
        return RedirectResponse(where, status_code=303)

    # --- login ---------------------------------------------------------------------------------

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request) -> Response:
        token = secrets.token_urlsafe(24)
        response = page(request, "login.html", login_csrf=token)
        response.set_cookie(
            auth.LOGIN_COOKIE,
            token,
            httponly=True,
            samesite="strict",
            path="/login",
            secure=state.secure_cookie,
            max_age=3600,
        )
        return response

    @app.post("/login")
    def login(request: Request, token: str = Form(..., max_length=200)) -> Response:
        client = request.client.host if request.client else "?"
        if state.throttle.blocked(client):
            return page(
                request,
                "login.html",
                status=429,
                login_csrf=request.cookies.get(auth.LOGIN_COOKIE, ""),
                error="Too many failed logins; wait a few minutes.",
            )
        who = state.store.labeler_by_token_hash(auth.token_hash(token))
        if who is None:
            state.throttle.failed(client)
            return page(
                request,
                "login.html",
                status=401,
                login_csrf=request.cookies.get(auth.LOGIN_COOKIE, ""),
                error=(
                    "Unknown token. Ask your project's admin for one (newsclf labelers add NAME)."
                ),
            )
        sid = secrets.token_urlsafe(32)
        state.store.add_session(
            hashlib.sha256(sid.encode()).hexdigest(),
            who["name"],
            secrets.token_urlsafe(32),
            time.time() + state.session_seconds,
        )
        response = RedirectResponse("/code", status_code=303)
        response.set_cookie(
            auth.SESSION_COOKIE,
            auth.sign(state.secret, sid),
            httponly=True,
            samesite="strict",
            secure=state.secure_cookie,
            max_age=int(state.session_seconds),
            path="/",
        )
        response.delete_cookie(auth.LOGIN_COOKIE, path="/login")
        return response

    @app.post("/logout")
    def logout(request: Request) -> Response:
        sid = auth.unsign(state.secret, request.cookies.get(auth.SESSION_COOKIE))
        if sid:
            state.store.delete_session(hashlib.sha256(sid.encode()).hexdigest())
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(auth.SESSION_COOKIE, path="/")
        return response

    @app.get("/")
    def home() -> Response:
        return RedirectResponse("/code", status_code=303)

    # --- coding --------------------------------------------------------------------------------

    @app.get("/code", response_class=HTMLResponse)
    def code(request: Request) -> Response:
        u = user(request)
        if u["role"] == "researcher":  # researchers read and export; they never code
            return RedirectResponse("/explore", status_code=303)
        store = state.store
        finished = store.finished_count(u["name"])
        leased = lease_next(
            store, u["name"], kind_order(finished), state.overlap, state.lease_seconds
        )
        progress = store.progress(u["name"], _start_of_today(), state.overlap)
        if leased is None:
            return page(
                request,
                "empty.html",
                finished=finished,
                reasons=empty_reasons(
                    store.empty_reason(u["name"], state.overlap), state.lease_seconds
                ),
                progress=progress,
            )
        article_id, kind = leased
        article = store.get_article(article_id)
        # Blind coding: the reliability sample never shows suggestions, wherever the item came from.
        blind = kind == "reliability" or "reliability" in store.queue_kinds(article_id)
        suggested = {} if blind else suggestions(state.model, guide, article)
        units = coding_units(guide, article, store.draft(u["name"], article_id), suggested)
        shown_targets = [t for s in guide.schemes for t in s.declared_targets()]
        return page(
            request,
            "code.html",
            article=article,
            segments=highlight(article.text, shown_targets),
            title_segments=highlight(article.title or "", shown_targets),
            units=units,
            suggested=suggested,
            finished=finished,
            progress=progress,
            idle_cap=IDLE_CAP_SECONDS,
            schemes=schemes,
            targets=target_views(guide),
        )

    @app.post("/code/submit")
    def submit(
        request: Request,
        article_id: str = Form(..., max_length=200),
        seconds: float = Form(0.0),
        form: list[tuple[str, str]] = Depends(form_items),
    ) -> Response:
        u = user(request)
        chosen = chosen_labels(guide, form)
        # The form is checked first; an unknown article then fails the lease check like any article
        # not yours.
        article = state.store.get_article(article_id) or Article(id=article_id, text="")
        annotations: list[Annotation] = []
        units = coding_units(guide, article)
        gate = guide.gate
        if gate is not None:
            answer = chosen.get((gate.name, ""))
            check_unit(gate, answer, "")
            if answer != [
                gate.gate
            ]:  # the gate closed: the article ends here, the other schemes are not coded
                if any(k[0] != gate.name for k in chosen):
                    raise HTTPException(
                        422,
                        f"{gate.name} is {answer[0]!r}, so the other schemes are not coded; "
                        "untick their labels or change the answer",
                    )
                units = [u for u in units if u["scheme"]["name"] == gate.name]
        for unit in units:
            key = (unit["scheme"]["name"], unit["target"] or "")
            scheme = guide.scheme(key[0])
            given = key in chosen
            labels = chosen.pop(key, None)
            if not given and unit["target"] and not unit["mentioned"]:
                labels = []  # a declared target the article never names: recorded as not mentioned
            else:
                check_unit(scheme, labels, unit["target"], none_chosen=given and labels is None)
            annotations.append(
                Annotation(
                    article_id=article_id,
                    scheme=scheme.name,
                    labels=tuple(labels or ()),
                    labeler=u["name"],
                    target=unit["target"] or "",
                    guide_version=guide.version,
                )
            )
        for (
            scheme_name,
            target,
        ), labels in chosen.items():  # labels for a target the page did not ask about
            scheme = guide.scheme(scheme_name)
            if target not in {t.name for t in scheme.declared_targets()}:
                raise HTTPException(422, f"{target!r} is not a target of {scheme_name}")
            check_unit(scheme, labels, target, none_chosen=labels is None)
            annotations = [a for a in annotations if (a.scheme, a.target) != (scheme_name, target)]
            annotations.append(
                Annotation(
                    article_id=article_id,
                    scheme=scheme_name,
                    labels=tuple(labels or ()),
                    labeler=u["name"],
                    target=target,
                    guide_version=guide.version,
                )
            )
        secs = _seconds(seconds)
        share = round(secs / len(annotations), 2) if secs is not None and annotations else None
        annotations = [Annotation(**{**a.__dict__, "seconds": share}) for a in annotations]
        try:
            state.store.finish_item(u["name"], article_id, annotations, secs, "done", state.overlap)
        except InputError as exc:
            raise HTTPException(409, str(exc)) from None
        return done(request)

    @app.post("/code/skip")
    def skip(
        request: Request, article_id: str = Form(..., max_length=200), seconds: float = Form(0.0)
    ) -> Response:
        u = user(request)
        try:
            state.store.finish_item(
                u["name"], article_id, [], _seconds(seconds), "skipped", state.overlap
            )
        except InputError as exc:
            raise HTTPException(409, str(exc)) from None
        return done(request)

    @app.post("/code/undo")
    def undo(request: Request) -> Response:
        u = user(request)
        article_id = state.store.undo_last(u["name"], state.lease_seconds)
        return done(request, article_id=article_id)

    @app.post("/code/flag")
    def flag(
        request: Request,
        article_id: str = Form(..., max_length=200),
        note: str = Form(..., min_length=1, max_length=5000),
    ) -> Response:
        u = user(request)
        if not state.store.has_article(article_id):
            raise HTTPException(404, "no such article")
        if not state.store.is_leased_to(article_id, u["name"]):
            raise HTTPException(409, "you can flag only the article you are coding; reload")
        if state.flag_limit.blocked(u["name"]):
            raise HTTPException(429, "too many flags in a few minutes; wait a little")
        state.flag_limit.failed(u["name"])
        state.store.add_flag(article_id, u["name"], note.strip(), guide.version)
        return done(request)

    # --- agreement and review ------------------------------------------------------------------

    @app.get("/agreement", response_class=HTMLResponse)
    def agreement_page(request: Request) -> Response:
        reviewer(request)
        from newsclf.label.agreement import agreement_report, methods_table

        report = agreement_report(state.store.annotations(), guide)
        return page(request, "agreement.html", report=report, table=methods_table(report))

    @app.get("/review", response_class=HTMLResponse)
    def review_page(
        request: Request,
        skip: int = Query(0, ge=0, le=10**9),
        saved: int = Query(0, ge=0, le=2**62),
    ) -> Response:
        u = reviewer(request)
        from newsclf.model.data import resolve

        store = state.store
        decided = store.review(saved) if saved else None
        if decided is not None:
            decided["title"] = (
                store.get_article(decided["article_id"]) or Article(id="", text="")
            ).title
        units = [
            (s, a, t)
            for s in guide.schemes
            for a, t in store.disagreements(s.name, exclude_coder=u["name"])
        ]
        if not units:
            return page(request, "review.html", unit=None, remaining=0, decided=decided)
        skip = max(0, min(skip, len(units) - 1))
        scheme, article_id, target = units[skip]
        anns = [
            a
            for a in store.annotations(scheme=scheme.name, article_id=article_id)
            if a.target == target and not a.gold
        ]
        majority = resolve(anns, scheme) or []
        article = store.get_article(article_id)
        shown = [t for t in scheme.declared_targets() if t.name == target] or (
            [target] if target else []
        )
        unit = {
            "scheme": _scheme_view(scheme),
            "target": target,
            "field": field_name(scheme.name, target),
            "selected": majority,
            "suggested": [],
            "mentioned": True,
            "none": False,
        }
        return page(
            request,
            "review.html",
            unit=unit,
            article=article,
            segments=highlight(article.text, shown),
            coders=[(a.labeler, list(a.labels)) for a in anns],
            majority=majority,
            remaining=len(units),
            skip=skip,
            decided=decided,
            schemes=[unit["scheme"]],
            targets=target_views(guide),
        )

    @app.post("/review/decide")
    def decide(
        request: Request,
        article_id: str = Form(..., max_length=200),
        scheme: str = Form(..., max_length=100),
        target: str = Form("", max_length=500),
        form: list[tuple[str, str]] = Depends(form_items),
    ) -> Response:
        u = reviewer(request)
        from newsclf.model.data import resolve

        try:
            sch = guide.scheme(scheme)
        except KeyError:
            raise HTTPException(422, "unknown scheme") from None
        # Labels come as "scheme:label" from the page's inputs; a plain label id is taken as this
        # scheme's.
        labels: list[str] = []
        none = False
        for key, value in form:
            if key == "label" or key.startswith("label/"):
                name, sep, label_id = value.partition(":")
                if sep and name != scheme:
                    raise HTTPException(422, f"label {value!r} is not one of {scheme}'s")
                labels.append(label_id if sep else value)
            elif key.startswith("none/") or key == "none":
                none = True
        labels = sorted(set(labels))
        if none and labels:
            raise HTTPException(
                422, f"'none of these' cannot go with a label; untick one of them for {scheme}"
            )
        check_unit(sch, labels if labels or not none else None, target, none_chosen=none)
        anns = [
            a
            for a in state.store.annotations(scheme=scheme, article_id=article_id)
            if a.target == target and not a.gold
        ]
        if len({a.labels for a in anns}) < 2 or any(a.labeler == u["name"] for a in anns):
            raise HTTPException(
                409, "this item has no disagreement for you to review (someone may have decided it)"
            )
        majority = sorted(resolve(anns, sch) or [])
        method = (
            "accepted majority"
            if majority and majority == labels
            else ("none of these" if none else "chosen by reviewer")
        )
        review_id = state.store.add_review(
            Annotation(
                article_id=article_id,
                scheme=scheme,
                labels=tuple(labels),
                labeler=u["name"],
                target=target,
                guide_version=guide.version,
                gold=True,
            ),
            method,
            {a.labeler: list(a.labels) for a in anns},
        )
        return done(request, where=f"/review?saved={review_id}", review_id=review_id)

    add_explore(app, state, page, role)
    return app


async def form_items(request: Request) -> list[tuple[str, str]]:
    """Every (name, value) of a posted form, for fields whose names carry the scheme and target."""
    form = await request.form()
    return [(k, v) for k, v in form.multi_items() if isinstance(v, str)]


def field_name(scheme: str, target: str | None) -> str:
    """The form field of one coding unit: `label/SCHEME` or `label/SCHEME/TARGET` (scheme names have
    no '/')."""
    return f"label/{scheme}/{target}" if target else f"label/{scheme}"


def chosen_labels(
    guide: Guide, form: list[tuple[str, str]]
) -> dict[tuple[str, str], list[str] | None]:
    """{(scheme, target): labels} from a coding form; None marks 'none of these' chosen explicitly.

    Fields: `label` = "scheme:label" (the scheme's only or default target), `label/SCHEME[/TARGET]`
    =
    "scheme:label", `none/SCHEME[/TARGET]` = any value.
    """
    chosen: dict[tuple[str, str], list[str] | None] = {}
    for key, value in form:
        kind, _, rest = key.partition("/")
        if kind not in ("label", "none"):
            continue
        scheme_name = value.partition(":")[0] if kind == "label" else rest.partition("/")[0]
        try:
            scheme = guide.scheme(scheme_name)
        except KeyError:
            raise HTTPException(422, f"unknown scheme in {value!r}") from None
        target = rest.partition("/")[2] if rest else ""
        target = target or scheme.effective_target(None)
        unit = chosen.setdefault((scheme.name, target), [])
        if kind == "none":
            if unit:
                raise HTTPException(
                    422, f"'none of these' cannot go with a label for {scheme.name}"
                )
            chosen[(scheme.name, target)] = None
            continue
        label_id = value.partition(":")[2]
        if label_id not in scheme.label_ids:
            raise HTTPException(422, f"unknown label {value!r}")
        if unit is None:
            raise HTTPException(422, f"'none of these' cannot go with a label for {scheme.name}")
        if label_id not in unit:
            unit.append(label_id)
    return {k: v if v is None else sorted(v) for k, v in chosen.items()}


def check_unit(
    scheme: Scheme, labels: list[str] | None, target: str, none_chosen: bool = False
) -> None:
    """Refuse (HTTP 422, in words) labels the guide does not allow for one scheme and target.

    `labels` None means 'none of these' was chosen (or nothing at all, when `none_chosen` is False).
    """
    where = scheme.name + (f" (target {target})" if target else "")
    if scheme.kind == "single":
        if labels is None or len(labels) != 1:
            raise HTTPException(422, f"choose exactly one label for {where}")
        return
    if labels is None:
        if none_chosen:
            return
        raise HTTPException(422, f"choose labels or 'none of these' (key 0) for {where}")
    if not labels:
        raise HTTPException(422, f"choose labels or 'none of these' (key 0) for {where}")
    bad = sorted(scheme.exclusive_ids & set(labels))
    if bad and len(labels) > 1:
        raise HTTPException(
            422,
            f"{scheme.label(bad[0]).name!r} is never combined with another label of {scheme.name}; "
            "untick one",
        )


def coding_units(
    guide: Guide,
    article: Article,
    draft: list[dict[str, Any]] | None = None,
    suggested: dict[str, list[str]] | None = None,
) -> list[dict[str, Any]]:
    """What the page asks about one article: one unit per scheme, and per declared target for stance
    schemes.

    A target the article never names is a unit too (`mentioned` False): the page does not ask it,
    and
    saving records it as not mentioned. `draft` (an undone save) ticks the labels the item had.
    """
    ticked = {(d["scheme"], d["target"]): d["labels"] for d in draft or []}
    text = f"{article.title or ''}\n{article.text}"
    units = []
    for scheme in guide.schemes:
        view = _scheme_view(scheme)
        targets = scheme.declared_targets()
        # A scheme with a `targets:` list asks only about the targets the article names; a lone
        # `target:` is always asked.
        mentioned = (
            {t.name for t in scheme.mentioned_targets(text)}
            if scheme.targets
            else {t.name for t in targets}
        )
        for target in targets or (None,):
            name = target.name if target else ""
            selected = ticked.get((scheme.name, name))
            units.append(
                {
                    "scheme": view,
                    "target": name,
                    "field": field_name(scheme.name, name),
                    "gate": scheme.gate or "",
                    "gated": guide.gated(scheme.name),
                    "mentioned": name in mentioned if target else True,
                    "selected": selected or [],
                    "none": selected == [] and scheme.kind == "multi",
                    "suggested": (
                        (suggested or {}).get(scheme.name, [])
                        if name == scheme.target or not name
                        else []
                    ),
                }
            )
    return units


def target_views(guide: Guide) -> list[dict[str, Any]]:
    """Every declared target with its aliases and a small index for its highlight colour."""
    out: list[dict[str, Any]] = []
    for scheme in guide.schemes:
        for t in scheme.declared_targets():
            if t.name not in {v["name"] for v in out}:
                out.append({"name": t.name, "aliases": list(t.aliases), "index": len(out) % 6})
    return out


def empty_reasons(counts: dict[str, int], lease_seconds: float) -> list[str]:
    """Why the page has nothing for a labeler, in words."""
    reasons = []
    if counts["queued"] == 0:
        reasons.append(
            "No articles are queued for labeling: ask your project's admin to import articles and"
            " start the page with sample sizes (newsclf label serve --reliability-size N"
            " --estimation-size N)."
        )
    if counts["held"]:
        reasons.append(
            f"{counts['held']} articles are being coded by other labelers right now; an unfinished"
            f" one comes back after {int(lease_seconds // 60)} minutes."
        )
    if counts["unreviewed"]:
        reasons.append(
            f"{counts['unreviewed']} coded items wait for a reviewer to settle coders'"
            " disagreements."
        )
    if counts["queued"] and not counts["held"]:
        reasons.append(
            "Every queued article has all the coders it needs, and you have coded or skipped the"
            " rest."
        )
    return reasons


def when(value: str | None) -> str:
    """An article's date as a person reads it, in its own offset: '5 Jul 2023, 09:00 (UTC-7)'."""
    if not value:
        return "no date"
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        return value
    day = f"{dt.day} {dt.strftime('%b %Y')}"
    if len(value) <= 10:  # a date without a time
        return day
    off = dt.utcoffset()
    if off is None:
        zone = "no time zone"
    else:
        minutes = int(off.total_seconds() // 60)
        sign = "+" if minutes >= 0 else "-"
        h, m = divmod(abs(minutes), 60)
        zone = f"UTC{sign}{h}" + (f":{m:02d}" if m else "") if minutes else "UTC"
    return f"{day}, {dt.strftime('%H:%M')} ({zone})"


def _start_of_today() -> float:
    """Midnight of the server's local day, as epoch seconds."""
    now = time.localtime()
    return time.mktime((now.tm_year, now.tm_mon, now.tm_mday, 0, 0, 0, 0, 0, -1))


def _seconds(value: float) -> float | None:
    if value != value or value < 0:  # NaN or negative: the page did not measure
        return None
    return round(min(float(value), MAX_ITEM_SECONDS), 2)


def _scheme_view(scheme: Any) -> dict[str, Any]:
    return {
        "name": scheme.name,
        "kind": scheme.kind,
        "question": scheme.question,
        "target": scheme.target,
        "gate": scheme.gate or "",
        "targets": [t.name for t in scheme.declared_targets()],
        "labels": [
            {
                "id": lab.id,
                "name": lab.name,
                "key": lab.key,
                "definition": lab.definition,
                "include": list(lab.include),
                "exclude": list(lab.exclude),
                "examples": list(lab.examples),
                "exclusive": lab.exclusive,
            }
            for lab in scheme.labels
        ],
    }


def _proxy_settings(trusted_proxy: str | None) -> dict[str, Any]:
    # uvicorn believes X-Forwarded-For from 127.0.0.1 by default, so anyone on the machine could
    # pick the
    # address the login throttle counts: only a proxy named by --trusted-proxy is believed.
    return {"proxy_headers": bool(trusted_proxy), "forwarded_allow_ips": trusted_proxy or ""}


def serve(app: FastAPI, host: str, port: int, trusted_proxy: str | None = None) -> None:
    """Run the app with uvicorn (blocking); X-Forwarded-For is believed only from
    `trusted_proxy`."""
    import uvicorn

    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="info",
        server_header=False,
        **_proxy_settings(trusted_proxy),
    )


__all__ = ["create_app", "serve"]


class BackgroundServer:
    """Run an app with uvicorn in a thread on 127.0.0.1 and a free port (tests and benchmarks).

    with BackgroundServer(app) as url:
        requests.get(url + "/login")
    """

    def __init__(
        self, app: FastAPI, host: str = "127.0.0.1", port: int = 0, trusted_proxy: str | None = None
    ):
        import uvicorn

        self.config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="warning",
            server_header=False,
            lifespan="off",
            **_proxy_settings(trusted_proxy),
        )
        self.server = uvicorn.Server(self.config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = ""

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the labeling server did not start")
            time.sleep(0.01)
        sock = self.server.servers[0].sockets[0]
        host, port = sock.getsockname()[:2]
        self.url = f"http://{host}:{port}"
        return self.url

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
