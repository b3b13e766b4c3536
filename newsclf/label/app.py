"""The labeling page: FastAPI routes over the store, Jinja2 templates (autoescaped) and a little plain JS.

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
import secrets
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import jinja2
from fastapi import FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from newsclf.errors import InputError
from newsclf.guide import Guide
from newsclf.label import auth
from newsclf.label.queue import highlight, kind_order, suggestions
from newsclf.store import Annotation, Store

HERE = Path(__file__).resolve().parent
IDLE_CAP_SECONDS = 60
MAX_ITEM_SECONDS = 3600.0
MAX_BODY = 1_000_000
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"), (b"referrer-policy", b"no-referrer")]
PUBLIC_PATHS = ("/login",)
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class LabelApp:
    """The page's settings and its per-thread store connections (SQLite connections stay in their thread)."""

    def __init__(self, db: str, guide: Guide, model: Any = None, overlap: int = 2, lease_seconds: float = 1800,
                 session_hours: float = 12, secure_cookie: bool = False):
        self.db, self.guide, self.model, self.overlap = db, guide, model, overlap
        self.lease_seconds, self.session_seconds, self.secure_cookie = lease_seconds, session_hours * 3600, secure_cookie
        self._local = threading.local()
        self.secret = self.store.label_setting("cookie_secret", lambda: secrets.token_hex(32))
        self.throttle = auth.Throttle()  # failed logins per socket peer (see serve: no proxy headers by default)
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
    """Login on every non-public path, CSRF on every write, a body cap and security headers (plain ASGI)."""

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
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        path, method = scope["path"], scope["method"]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        cookies = _cookies(headers.get("cookie", ""))
        session = self.state.session(cookies.get(auth.SESSION_COOKIE))
        scope.setdefault("state", {})["user"] = session
        public = path in PUBLIC_PATHS or path.startswith("/static/")
        if session is None and not public:
            if method in SAFE_METHODS and "text/html" in headers.get("accept", ""):
                response: Response = RedirectResponse("/login", status_code=303)
            else:
                response = JSONResponse({"detail": "log in first"}, status_code=401)
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
                return await JSONResponse({"detail": "request too large"}, status_code=413)(scope, receive, send_with_headers)
        token = headers.get(auth.CSRF_HEADER)
        if token is None and headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            token = (parse_qs(body.decode("utf-8", "replace")).get(auth.CSRF_FIELD) or [None])[0]
        expected = cookies.get(auth.LOGIN_COOKIE) if path in PUBLIC_PATHS else (session or {}).get("csrf")
        if not auth.same(token, expected):
            return await JSONResponse({"detail": "missing or wrong CSRF token; reload the page"},
                                      status_code=403)(scope, receive, send_with_headers)
        sent = False

        async def replay() -> dict:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send_with_headers)


def _cookies(header: str) -> dict[str, str]:
    out = {}
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        if name and name not in out:
            out[name] = value
    return out


def create_app(db: str, guide: Guide, model: Any = None, overlap: int = 2, lease_seconds: float = 1800,
               session_hours: float = 12, secure_cookie: bool = False) -> FastAPI:
    """The labeling app over the store at `db`, coding by `guide` (suggestions from `model`, if given)."""
    state = LabelApp(db, guide, model, overlap, lease_seconds, session_hours, secure_cookie)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True)
    templates = Jinja2Templates(env=env)
    app = FastAPI(title="newsclf labeling", docs_url=None, redoc_url=None)
    app.state.label = state
    app.add_middleware(Guard, state=state)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    schemes = [_scheme_view(s) for s in guide.schemes]
    targets = [s.target for s in guide.schemes if s.target]

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

    def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        u = request.scope.get("state", {}).get("user")
        return templates.TemplateResponse(request, name, {"user": u, "csrf": (u or {}).get("csrf", ""),
                                                          "guide": guide, **context}, status_code=status)

    def done(request: Request, where: str = "/code", **data: Any) -> Response:
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse({"ok": True, **data})
        return RedirectResponse(where, status_code=303)

    # --- login ---------------------------------------------------------------------------------

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request) -> Response:
        token = secrets.token_urlsafe(24)
        response = page(request, "login.html", login_csrf=token)
        response.set_cookie(auth.LOGIN_COOKIE, token, httponly=True, samesite="strict", path="/login",
                            secure=state.secure_cookie, max_age=3600)
        return response

    @app.post("/login")
    def login(request: Request, token: str = Form(..., max_length=200)) -> Response:
        client = request.client.host if request.client else "?"
        if state.throttle.blocked(client):
            return page(request, "login.html", status=429, login_csrf=request.cookies.get(auth.LOGIN_COOKIE, ""),
                        error="Too many failed logins; wait a few minutes.")
        who = state.store.labeler_by_token_hash(auth.token_hash(token))
        if who is None:
            state.throttle.failed(client)
            return page(request, "login.html", status=401, login_csrf=request.cookies.get(auth.LOGIN_COOKIE, ""),
                        error="Unknown token. Ask your project's admin for one (newsclf labelers add NAME).")
        sid = secrets.token_urlsafe(32)
        state.store.add_session(hashlib.sha256(sid.encode()).hexdigest(), who["name"], secrets.token_urlsafe(32),
                                time.time() + state.session_seconds)
        response = RedirectResponse("/code", status_code=303)
        response.set_cookie(auth.SESSION_COOKIE, auth.sign(state.secret, sid), httponly=True, samesite="strict",
                            secure=state.secure_cookie, max_age=int(state.session_seconds), path="/")
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
        store = state.store
        finished = store.finished_count(u["name"])
        leased = store.lease_next(u["name"], kind_order(finished), state.overlap, state.lease_seconds)
        if leased is None:
            return page(request, "empty.html", finished=finished)
        article_id, kind = leased
        article = store.get_article(article_id)
        # Blind coding: the reliability sample never shows suggestions, wherever the item came from.
        blind = kind == "reliability" or "reliability" in store.queue_kinds(article_id)
        suggested = {} if blind else suggestions(state.model, guide, article)
        return page(request, "code.html", article=article, segments=highlight(article.text, targets),
                    title_segments=highlight(article.title or "", targets), schemes=schemes, suggested=suggested,
                    finished=finished, idle_cap=IDLE_CAP_SECONDS)

    @app.post("/code/submit")
    def submit(request: Request, article_id: str = Form(..., max_length=200), label: list[str] = Form([]),
               seconds: float = Form(0.0)) -> Response:
        u = user(request)
        chosen: dict[str, list[str]] = {s.name: [] for s in guide.schemes}
        for value in label:
            scheme_name, _, label_id = value.partition(":")
            if scheme_name not in chosen or label_id not in guide.scheme(scheme_name).label_ids:
                raise HTTPException(422, f"unknown label {value!r}")
            if label_id not in chosen[scheme_name]:
                chosen[scheme_name].append(label_id)
        for s in guide.schemes:
            if s.kind == "single" and len(chosen[s.name]) != 1:
                raise HTTPException(422, f"choose exactly one label for {s.name}")
        secs = _seconds(seconds)
        per_scheme = round(secs / len(guide.schemes), 2) if secs is not None else None
        annotations = [Annotation(article_id=article_id, scheme=s.name, labels=tuple(chosen[s.name]), labeler=u["name"],
                                  target=s.effective_target(None), seconds=per_scheme, guide_version=guide.version)
                       for s in guide.schemes]
        try:
            state.store.finish_item(u["name"], article_id, annotations, secs, "done", state.overlap)
        except InputError as exc:
            raise HTTPException(409, str(exc)) from None
        return done(request)

    @app.post("/code/skip")
    def skip(request: Request, article_id: str = Form(..., max_length=200), seconds: float = Form(0.0)) -> Response:
        u = user(request)
        try:
            state.store.finish_item(u["name"], article_id, [], _seconds(seconds), "skipped", state.overlap)
        except InputError as exc:
            raise HTTPException(409, str(exc)) from None
        return done(request)

    @app.post("/code/undo")
    def undo(request: Request) -> Response:
        u = user(request)
        article_id = state.store.undo_last(u["name"], state.lease_seconds)
        return done(request, article_id=article_id)

    @app.post("/code/flag")
    def flag(request: Request, article_id: str = Form(..., max_length=200),
             note: str = Form(..., min_length=1, max_length=5000)) -> Response:
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
    def review_page(request: Request, skip: int = 0) -> Response:
        u = reviewer(request)
        from newsclf.model.data import resolve

        store = state.store
        units = [(s, a, t) for s in guide.schemes for a, t in store.disagreements(s.name, exclude_coder=u["name"])]
        if not units:
            return page(request, "review.html", unit=None, remaining=0)
        skip = max(0, min(skip, len(units) - 1))
        scheme, article_id, target = units[skip]
        anns = [a for a in store.annotations(scheme=scheme.name, article_id=article_id) if a.target == target and not a.gold]
        majority = resolve(anns, scheme) or []
        article = store.get_article(article_id)
        return page(request, "review.html", unit={"scheme": _scheme_view(scheme), "target": target},
                    article=article, segments=highlight(article.text, [target] if target else []),
                    coders=[(a.labeler, list(a.labels)) for a in anns], majority=majority,
                    remaining=len(units), skip=skip)

    @app.post("/review/decide")
    def decide(request: Request, article_id: str = Form(..., max_length=200), scheme: str = Form(..., max_length=100),
               target: str = Form("", max_length=500), label: list[str] = Form([])) -> Response:
        u = reviewer(request)
        from newsclf.model.data import resolve

        try:
            sch = guide.scheme(scheme)
        except KeyError:
            raise HTTPException(422, "unknown scheme") from None
        labels = sorted({x for x in label})
        if any(x not in sch.label_ids for x in labels) or (sch.kind == "single" and len(labels) != 1):
            raise HTTPException(422, f"choose {'exactly one label' if sch.kind == 'single' else 'valid labels'} for {scheme}")
        anns = [a for a in state.store.annotations(scheme=scheme, article_id=article_id) if a.target == target and not a.gold]
        if len({a.labels for a in anns}) < 2 or any(a.labeler == u["name"] for a in anns):
            raise HTTPException(409, "this item has no disagreement for you to review")
        majority = sorted(resolve(anns, sch) or [])
        method = "accepted majority" if majority and majority == labels else "chosen by reviewer"
        state.store.add_review(Annotation(article_id=article_id, scheme=scheme, labels=tuple(labels), labeler=u["name"],
                                          target=target, guide_version=guide.version, gold=True),
                               method, {a.labeler: list(a.labels) for a in anns})
        return done(request, where="/review")

    return app


def _seconds(value: float) -> float | None:
    if value != value or value < 0:  # NaN or negative: the page did not measure
        return None
    return round(min(float(value), MAX_ITEM_SECONDS), 2)


def _scheme_view(scheme: Any) -> dict[str, Any]:
    return {"name": scheme.name, "kind": scheme.kind, "question": scheme.question, "target": scheme.target,
            "labels": [{"id": lab.id, "name": lab.name, "key": lab.key, "definition": lab.definition,
                        "include": list(lab.include), "exclude": list(lab.exclude), "examples": list(lab.examples)}
                       for lab in scheme.labels]}


def _proxy_settings(trusted_proxy: str | None) -> dict[str, Any]:
    # uvicorn believes X-Forwarded-For from 127.0.0.1 by default, so anyone on the machine could pick the
    # address the login throttle counts: only a proxy named by --trusted-proxy is believed.
    return {"proxy_headers": bool(trusted_proxy), "forwarded_allow_ips": trusted_proxy or ""}


def serve(app: FastAPI, host: str, port: int, trusted_proxy: str | None = None) -> None:
    """Run the app with uvicorn (blocking); X-Forwarded-For is believed only from `trusted_proxy`."""
    import uvicorn

    uvicorn.run(app, host=host, port=port, log_level="info", server_header=False, **_proxy_settings(trusted_proxy))


__all__ = ["create_app", "serve"]


class BackgroundServer:
    """Run an app with uvicorn in a thread on 127.0.0.1 and a free port (tests and benchmarks).

        with BackgroundServer(app) as url:
            requests.get(url + "/login")
    """

    def __init__(self, app: FastAPI, host: str = "127.0.0.1", port: int = 0, trusted_proxy: str | None = None):
        import uvicorn

        self.config = uvicorn.Config(app, host=host, port=port, log_level="warning", server_header=False,
                                     lifespan="off", **_proxy_settings(trusted_proxy))
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
