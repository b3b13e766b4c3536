"""Helpers for the labeling page tests: a real store, real labelers, a real uvicorn server on
127.0.0.1."""

from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import requests

from newsclf.article import Article
from newsclf.guide import load_guide
from newsclf.label import auth, queue
from newsclf.label.app import BackgroundServer, create_app
from newsclf.records import import_file
from newsclf.store import Store

ROOT = Path(__file__).resolve().parents[1]
GUIDE_PATH = ROOT / "label_guides" / "ai-discourse.yaml"
ARTICLES = ROOT / "corpora" / "ai-discourse-demo" / "articles.jsonl"
GUIDE = load_guide(GUIDE_PATH)


def demo_store(path: Path) -> Store:
    """A store holding the demo corpus' 149 articles, unlabeled."""
    store = Store(path)
    import_file(store, ARTICLES)
    return store


def add_labeler(store: Store, name: str, role: str = "labeler") -> str:
    """Add a labeler; returns their login token."""
    token = auth.new_token()
    store.add_labeler(name, role, auth.token_hash(token))
    return token


@contextmanager
def serving(
    db: Path, model=None, overlap: int = 2, lease_seconds: float = 1800, guide=None
) -> Iterator[str]:
    """The labeling app over `db` (coding by `guide`, the demo's by default) in a background uvicorn
    server; yields its URL."""
    app = create_app(
        str(db), guide or GUIDE, model=model, overlap=overlap, lease_seconds=lease_seconds
    )
    with BackgroundServer(app) as url:
        yield url


def prepare(store: Store, reliability: int = 0, estimation: int = 0, seed: int = 0) -> dict:
    return queue.prepare(store, reliability, estimation, seed)


CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]*)">')
FORM_CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')
ARTICLE_ID = re.compile(r'data-article-id="([^"]+)"')


def login(url: str, token: str) -> tuple[requests.Session, str]:
    """Log in over plain HTTP; returns the session and its CSRF token."""
    s = requests.Session()
    page = s.get(url + "/login", timeout=10)
    r = s.post(
        url + "/login",
        data={"token": token, "csrf_token": FORM_CSRF.search(page.text).group(1)},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    return s, CSRF_META.search(r.text).group(1)


FIELD = re.compile(r'<input type="(?:radio|checkbox)" name="(label/[^"]+)" value="([^"]+)"')


def answers(html: str) -> list[tuple[str, str]]:
    """A complete answer to the coding form a page shows: 'labor' for topics, 'neutral' toward each
    stance target."""
    fields: dict[str, list[str]] = {}
    for name, value in FIELD.findall(html):
        fields.setdefault(name, []).append(value)
    return [
        (name, next((v for v in values if v.endswith((":labor", ":neutral"))), values[0]))
        for name, values in fields.items()
    ]


def current_answers(s: requests.Session, url: str) -> tuple[str | None, list[tuple[str, str]]]:
    """The article the page shows this session now and a complete answer to its form."""
    r = s.get(url + "/code", headers={"Accept": "text/html"}, timeout=10)
    assert r.status_code == 200, r.text
    m = ARTICLE_ID.search(r.text)
    return (m.group(1) if m else None), answers(r.text)


def current_item(s: requests.Session, url: str) -> str | None:
    """The article id the page shows this session now (None when nothing is left)."""
    r = s.get(url + "/code", headers={"Accept": "text/html"}, timeout=10)
    assert r.status_code == 200, r.text
    m = ARTICLE_ID.search(r.text)
    return m.group(1) if m else None


def xss_article() -> Article:
    return Article.from_dict(
        {
            "id": "hostile-1",
            "outlet": "Evil <b>Outlet</b>",
            "title": 'OpenAI <img src=x onerror="alert(1)">',
            "text": (
                "Before <script>alert('script ran')</script> middle <img src=x onerror=alert('img"
                ' ran\')> OpenAI said </div><div id="injected">injected</div> after.'
            ),
            "published": "2023-05-01T10:00:00+00:00",
            "lang": "en",
        }
    )
