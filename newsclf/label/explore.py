"""The explore page: search the store, see attention over time, open articles, and send a result set
to labeling (as a random estimation sample of the query's population, or as the pool of
active-learning
picks) or to a file. For reviewers, admins and researchers (who read and export but never code).

The attention chart is an SVG drawn here, server-side: no script, no CDN, the page's CSP unchanged.
"""

from __future__ import annotations

import html
import io
import random
from dataclasses import asdict, dataclass
from typing import Any, Callable

from fastapi import Depends, FastAPI, Form, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response

from newsclf.exporter import write_flat
from newsclf.report.coverage import wilson
from newsclf.search import HIT_END, HIT_START, Filters, to_match

EXPLORE_ROLES = ("reviewer", "admin", "researcher")
PAGE_SIZE = 25
EXPORT_FORMATS = (
    "csv",
    "jsonl",
    "flat",
)  # flat: the report's article table (a CSV a spreadsheet opens)
SORTS = {
    "added": "newest stored first",
    "date": "newest published first",
    "relevance": "best match first",
}


@dataclass(frozen=True)
class FormFilters:
    """The search form's fields beside the query, as sent (empty: any); as a dependency, the
    routes' query parameters of these names."""

    outlet: str = ""
    since: str = ""
    until: str = ""
    lang: str = ""


def query_filters(q: str, fields: FormFilters) -> tuple[str, Filters]:
    """The FTS5 match and filters a form's fields describe; a query that cannot be read raises
    InputError, which the app answers as HTTP 422 in words."""
    return to_match(q), Filters(
        since=fields.since or None,
        until=fields.until or None,
        outlets=(fields.outlet,) if fields.outlet else (),
        lang=fields.lang or None,
    )


def segments(marked: str | None) -> list[tuple[str, bool]]:
    """A snippet as (text, is_match) pieces, for the template to escape and wrap in <mark>."""
    out: list[tuple[str, bool]] = []
    for i, part in enumerate((marked or "").split(HIT_START)):
        hit, _, rest = part.partition(HIT_END) if i else ("", "", part)
        if hit:
            out.append((hit, True))
        if rest:
            out.append((rest, False))
    return out


def attention_svg(rows: list[dict[str, Any]], width: int = 640, height: int = 180) -> str:
    """Matching articles per period as bars (n on each), with their share of all articles then
    below: an SVG."""
    if not rows:
        return ""
    peak = max(r["matching"] for r in rows) or 1
    step = width / len(rows)
    bar = max(2.0, step * 0.7)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height + 40}" role="img" '
        'class="attention" aria-label="matching articles per period">'
    ]
    for i, r in enumerate(rows):
        h = (height - 20) * r["matching"] / peak
        x, y = i * step + (step - bar) / 2, height - h
        share = r["matching"] / r["total"] if r["total"] else 0
        title = f"{r['period']}: {r['matching']} of {r['total']} articles ({share:.0%})"
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}"'
            f' height="{h:.1f}"><title>{html.escape(title)}</title></rect>'
        )
        parts.append(
            f'<text x="{x + bar / 2:.1f}" y="{y - 3:.1f}"'
            f' text-anchor="middle">{r["matching"]}</text>'
        )
        parts.append(
            f'<text x="{x + bar / 2:.1f}" y="{height + 14}" text-anchor="middle" class="axis">'
            f"{html.escape(str(r['period']))}</text>"
        )
        parts.append(
            f'<text x="{x + bar / 2:.1f}" y="{height + 30}" text-anchor="middle" class="axis">'
            f"{share:.0%} of {r['total']}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def add_explore(
    app: FastAPI, state: Any, page: Callable[..., Response], role: Callable[..., dict[str, Any]]
) -> None:
    """Register the explore routes on the labeling app (`role(request, roles)` checks who may use
    them)."""

    def latest_model() -> str | None:
        return state.store.latest_prediction_model()

    @app.get("/explore")
    def explore(
        request: Request,
        q: str = "",
        fields: FormFilters = Depends(),
        page_no: int = Query(1, ge=1, le=10**6),
        queued: str = "",
        sort: str = "added",
    ) -> Response:
        role(request, EXPLORE_ROLES)
        store = state.store
        context: dict[str, Any] = {
            "q": q,
            **asdict(fields),
            "outlets": store.outlets(),
            "queued": queued,
            "hits": [],
            "total": 0,
            "chart": "",
            "page_no": max(1, page_no),
            "page_size": PAGE_SIZE,
            "sort": sort if sort in SORTS else "added",
        }
        if q.strip():
            match, filters = query_filters(q, fields)
            model_id = latest_model()
            total = store.search_count(match, filters)
            hits = store.search_articles(
                match,
                filters,
                limit=PAGE_SIZE,
                offset=(context["page_no"] - 1) * PAGE_SIZE,
                order=context["sort"],
            )
            for h in hits:
                h["snippet_parts"] = segments(h["snippet"])
                h["labels"] = _labels(store, h["id"])
                h["predicted"] = _predicted(store, h["id"], model_id)
            counts = [r for r in store.search_counts(match, "month", filters=filters) if r["total"]]
            # the share of all articles that month, with its n and a Wilson 95% interval
            for r in counts:
                r["share"] = r["matching"] / r["total"]
                r["low"], r["high"] = wilson(r["matching"], r["total"])
            context.update(hits=hits, total=total, chart=attention_svg(counts), counts=counts)
        return page(request, "explore.html", **context)

    @app.get("/explore/article/{article_id}")
    def explore_article(request: Request, article_id: str) -> Response:
        role(request, EXPLORE_ROLES)
        article = state.store.get_article(article_id)
        if article is None:
            raise HTTPException(404, "no such article")
        return page(
            request,
            "explore_article.html",
            article=article,
            labels=_labels(state.store, article_id),
            predicted=_predicted(state.store, article_id, latest_model()),
            back=request.query_params.get("back", ""),
        )

    @app.post("/explore/queue")
    def explore_queue(
        request: Request,
        q: str = Form(..., max_length=2000),
        outlet: str = Form(""),
        since: str = Form(""),
        until: str = Form(""),
        lang: str = Form(""),
        kind: str = Form(...),
        size: int = Form(50, ge=1, le=10000),
    ) -> Response:
        u = role(request, ("reviewer", "admin"))
        fields = FormFilters(outlet, since, until, lang)
        match, filters = query_filters(q, fields)
        store = state.store
        population = store.search_ids(match, filters)
        fresh = set(store.unlabeled_unqueued_ids(population))
        if kind == "estimation":
            # A random sample of the query's population: the unbiased base for its shares.
            picks = random.Random(f"{q}|{len(population)}").sample(
                sorted(fresh), min(size, len(fresh))
            )
            n = store.enqueue(
                (
                    a,
                    "estimation",
                    float(len(picks) - i),
                    f"estimation sample of query {q!r} (by {u['name']})",
                )
                for i, a in enumerate(picks)
            )
        elif kind == "active":
            n = _queue_active(state, sorted(fresh), size, q)
        else:
            raise HTTPException(
                422, "choose a random estimation sample or the active-learning pool"
            )
        return RedirectResponse(
            f"/explore?{_query_string(q, fields)}&queued={kind}:{n}",
            status_code=303,
        )

    @app.get("/explore/export")
    def explore_export(
        request: Request, q: str, fields: FormFilters = Depends(), format: str = "csv"
    ) -> Response:
        role(request, EXPLORE_ROLES)
        if format not in EXPORT_FORMATS:
            raise HTTPException(422, f"format must be one of {', '.join(EXPORT_FORMATS)}")
        match, filters = query_filters(q, fields)
        store = state.store
        model_id = latest_model()
        ids = store.search_ids(match, filters)
        if format == "flat":
            from newsclf.report.tables import article_table

            columns, rows = article_table(
                store, state.guide, model_id, ids=set(ids), with_text=True
            )
        else:
            rows = [_export_row(store, a, model_id) for a in store.iter_articles(ids)]
            columns = list(rows[0]) if rows else ["id"]
        body = io.StringIO()
        write_flat(rows, columns, "jsonl" if format == "jsonl" else "csv", None, body)
        name = "search-flat.csv" if format == "flat" else f"search.{format}"
        return Response(
            body.getvalue(),
            media_type="application/x-ndjson" if format == "jsonl" else "text/csv",
            headers={"content-disposition": f'attachment; filename="{name}"'},
        )


def _query_string(q: str, fields: FormFilters) -> str:
    from urllib.parse import urlencode

    return urlencode({"q": q, **asdict(fields)})


def _labels(store: Any, article_id: str) -> list[str]:
    """The article's coded labels as 'scheme[ target]: labels (who)' lines."""
    return [
        f"{a.scheme}{' → ' + a.target if a.target else ''}: {', '.join(a.labels) or 'none'} "
        f"({'gold, ' + a.labeler if a.gold else a.labeler})"
        for a in store.annotations(article_id=article_id)
    ]


def _predicted(store: Any, article_id: str, model_id: str | None) -> list[str]:
    """The latest model's labels with their probability, as 'scheme[ target]: label (p)' lines."""
    if model_id is None:
        return []
    out = []
    for p in store.predictions(article_id=article_id, model_id=model_id):
        probs = p["probabilities"]
        shown = ", ".join(f"{label} ({probs.get(label, 0):.2f})" for label in p["labels"]) or "none"
        out.append(f"{p['scheme']}{' → ' + p['target'] if p['target'] else ''}: {shown}")
    return out


EXPORT_FIELDS = ("id", "url", "outlet", "published", "lang", "title")  # an export row's first cells


def _export_row(store: Any, article: Any, model_id: str | None) -> dict[str, Any]:
    return {
        **{name: getattr(article, name) for name in EXPORT_FIELDS},
        "labels": " | ".join(_labels(store, article.id)),
        "predicted": " | ".join(_predicted(store, article.id, model_id)),
        "text": article.text,
    }


def _queue_active(state: Any, ids: list[str], size: int, q: str) -> int:
    """The query's unlabeled articles as the pool: the model's most informative picks, or (no model)
    the most representative."""
    from newsclf.model.active import representative, suggest

    store = state.store
    articles = list(store.iter_articles(ids[:20000]))
    if state.model is not None:
        picks = suggest(state.model, articles, size, store.dup_groups())
        kind = "active"
    else:
        picks = representative(articles, size, store.dup_groups(), 0)
        kind = "seed"
    return store.enqueue(
        (p.article.id, kind, p.score, f"{p.reason}; pool: query {q!r}") for p in picks
    )
