"""`newsclf report`: tables (CSV, Parquet), figures (PNG, SVG) and one self-contained HTML file.

The HTML holds what a methods section needs: the figures, the codebook, agreement, the model
card, the labeling ledger and the data's provenance.
"""

from __future__ import annotations

import base64
import csv
import html
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

from newsclf.guide import Guide
from newsclf.label.agreement import agreement_report, methods_table
from newsclf.report.coverage import (
    PERIODS,
    ErrorRates,
    Item,
    attention_table,
    cell_key,
    cells_of,
    collect_items,
    coverage_table,
)
from newsclf.report.guardrails import (
    cell_name,
    estimation_leak_warning,
    flag_lines,
    flag_rows,
    scheme_warnings,
)
from newsclf.report.ledger import ledger, project_labels
from newsclf.report.plots import (
    Drawer,
    attention,
    by_group,
    learning_curve,
    share_over_time,
    small_multiples,
)
from newsclf.report.tables import article_table
from newsclf.store import Store


@dataclass
class ReportResult:
    """Where the report went and what it holds."""

    html: Path
    tables: list[Path]
    figures: list[Path]
    rows: list[dict[str, Any]]
    warnings: list[str]  # schemes whose model is too weak to lean on
    flagged: list[str]  # flagged cells by name, with the reason in words
    not_labeled: dict[str, int] = field(
        default_factory=dict
    )  # why -> articles the model did not label


def _in_range(item: Item, since: str | None, until: str | None) -> bool:
    day = (item.article.published or "")[:10]
    if since and (not day or day < since):
        return False
    if until and (not day or day > until):
        return False
    return True


def _write_csv(path: Path, rows: Sequence[dict[str, Any]]) -> Path:
    fields: list[str] = []
    for row in rows:
        fields += [k for k in row if k not in fields]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _write_parquet(path: Path, rows: Sequence[dict[str, Any]]) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    fields: list[str] = []
    for row in rows:
        fields += [k for k in row if k not in fields]
    table = pa.table({f: [row.get(f) for row in rows] for f in fields})
    pq.write_table(table, path)
    return path


def build_report(
    store: Store,
    guide: Guide,
    out_dir: str | Path,
    model_dir: str | Path | None = None,
    by: Sequence[str] = ("outlet", "month"),
    since: str | None = None,
    until: str | None = None,
    hourly_rate: float = 0.0,
    target_f1: float = 0.8,
    estimator: str = "ppi",
    min_n: int = 10,
    max_width: float = 0.5,
    within: set[str] | None = None,
    query: str | None = None,
) -> ReportResult:
    """Compute every table and figure and write the report into out_dir.

    `within` (the ids a search `query` matched) restricts every share to those articles; the report
    states the query.
    """
    # Figures are drawn by worker processes while the tables and agreement are computed.
    with Drawer() as drawer:
        return _build_report(
            drawer,
            store,
            guide,
            out_dir,
            model_dir,
            by,
            since,
            until,
            hourly_rate,
            target_f1,
            estimator,
            min_n,
            max_width,
            within,
            query,
        )


def _build_report(
    drawer: Drawer,
    store: Store,
    guide: Guide,
    out_dir: str | Path,
    model_dir: str | Path | None,
    by: Sequence[str],
    since: str | None,
    until: str | None,
    hourly_rate: float,
    target_f1: float,
    estimator: str,
    min_n: int,
    max_width: float,
    within: set[str] | None,
    query: str | None,
) -> ReportResult:
    out = Path(out_dir)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    (out / "tables").mkdir(parents=True, exist_ok=True)
    metrics: dict[str, Any] = {}
    card = ""
    model_created = None
    model_id = None
    if model_dir is not None:
        model_dir = Path(model_dir)
        meta = json.loads((model_dir / "meta.json").read_text(encoding="utf-8"))
        model_id = meta["model_id"]
        metrics = json.loads((model_dir / "metrics.json").read_text(encoding="utf-8"))
        card = (model_dir / "card.md").read_text(encoding="utf-8")
        model_created = meta.get("created_at")
    else:
        model_id = store.latest_prediction_model()
    period = next((b for b in by if b in PERIODS), "month")
    group = next((b for b in by if b not in PERIODS), None)
    all_rows: list[dict[str, Any]] = []
    # Drill-down: every cell's id -> (its name, the items behind it), so each number links to its
    # articles.
    cell_ids: dict[tuple[str, str, Any], str] = {}
    drill: dict[str, tuple[str, list[Item]]] = {}
    population_items: dict[str, Item] = {}
    sources: dict[str, Counter] = {}
    for scheme in guide.schemes:
        items = [
            i
            for i in collect_items(store, guide, scheme, model_id)
            if _in_range(i, since, until) and (within is None or i.article.id in within)
        ]
        if not items:
            continue
        sources[scheme.name] = Counter(i.source for i in items)
        population_items.update({i.article.id: i for i in items})
        rates = ErrorRates.from_metrics(scheme, metrics.get(scheme.name))
        tables = {"main": list(by), "time": [period]}
        if group:
            tables["group"] = [group]
        results = {}
        for name, fields in tables.items():
            rows = coverage_table(
                items,
                scheme,
                fields,
                rates,
                estimator=estimator,
                model_f1=metrics.get(scheme.name, {}).get("macro_f1"),
            )
            flag_rows(rows, metrics, min_n, max_width)
            members = cells_of(items, fields)
            for row in rows:
                row["table"] = name
                key = (scheme.name, name, cell_key(row, fields))
                if key not in cell_ids:
                    cell_ids[key] = f"cell-{len(cell_ids) + 1}"
                    drill[cell_ids[key]] = (cell_name(row, with_label=False), members[key[2]])
                row["cell"] = cell_ids[key]
            results[name] = rows
            all_rows += rows
        for target in sorted({r["target"] or "" for r in results["time"]}):
            suffix = f"-{target.lower().replace(' ', '_')}" if target else ""
            about = f" toward {target}" if target else ""
            rows = [r for r in results["time"] if (r["target"] or "") == target]
            drawer.draw(
                share_over_time,
                rows,
                period,
                f"{scheme.name}{about}: share per {period}",
                out / "figures",
                f"{scheme.name}{suffix}-over-time",
            )
            if group:
                grows = [r for r in results["group"] if (r["target"] or "") == target]
                drawer.draw(
                    by_group,
                    grows,
                    group,
                    f"{scheme.name}{about} by {group}",
                    out / "figures",
                    f"{scheme.name}{suffix}-by-{group}",
                )
                if scheme.target is None and "main" in results and period in by:
                    mrows = [r for r in results["main"] if (r["target"] or "") == target]
                    drawer.draw(
                        small_multiples,
                        mrows,
                        group,
                        period,
                        f"{scheme.name} by {group} and {period}",
                        out / "figures",
                        f"{scheme.name}{suffix}-by-{group}-{period}",
                    )
    # Attention: how much coverage there is, over every article any scheme reports on.
    population = list(population_items.values())
    attention_rows = attention_table(store, population, group, period) if population else []
    scheme_figures = len(drawer.queued)
    if attention_rows:
        drawer.draw(
            attention,
            attention_rows,
            group,
            period,
            "How much coverage: stories per " + period,
            out / "figures",
            "attention",
        )
    annotations = store.annotations()
    agreement = agreement_report(annotations, guide)
    ledger_rows = ledger(annotations, hourly_rate)
    projections = {
        name: project_labels(m.get("learning_curve", []), target_f1) for name, m in metrics.items()
    }
    first_curve = len(drawer.queued)
    for name, proj in projections.items():
        points = metrics[name].get("learning_curve", [])
        if len(points) >= 2:
            drawer.draw(
                learning_curve,
                points,
                proj.get("fit"),
                target_f1,
                proj.get("labels"),
                f"{name}: learning curve and projection",
                out / "figures",
                f"{name}-learning-curve",
            )
        else:
            proj["note"] = "section left out: " + proj.get(
                "note", "no learning curve in the model's metrics"
            )
    seconds = [a.seconds for a in annotations if a.seconds is not None]
    per_label_seconds = sorted(seconds)[len(seconds) // 2] if seconds else None
    for name, proj in projections.items():
        labeled = sum(1 for a in annotations if a.scheme == name and not a.gold)
        if proj.get("labels") and per_label_seconds:
            more = max(0, proj["labels"] - labeled)
            proj["more_labels"] = more
            proj["more_hours"] = round(more * per_label_seconds / 3600, 1)
            proj["more_cost"] = round(proj["more_hours"] * hourly_rate, 2)
    tables_out = [
        _write_csv(out / "tables" / "coverage.csv", all_rows),
        _write_parquet(out / "tables" / "coverage.parquet", all_rows),
        _write_csv(out / "tables" / "ledger.csv", ledger_rows),
    ]
    if attention_rows:
        tables_out.append(_write_csv(out / "tables" / "attention.csv", attention_rows))
    drill_rows = drilldown_rows(drill)
    tables_out.append(_write_csv(out / "tables" / "drilldown.csv", drill_rows))
    articles = article_table(store, guide, model_id, ids=within)[1]
    tables_out += [
        _write_csv(out / "tables" / "articles.csv", articles),
        _write_parquet(out / "tables" / "articles.parquet", articles),
    ]
    (out / "tables" / "agreement.json").write_text(
        json.dumps(agreement, indent=2), encoding="utf-8"
    )
    tables_out.append(out / "tables" / "agreement.json")
    provenance = _provenance(store, sources, since, until, model_id)
    provenance["query"] = (query, len(within)) if within is not None else None
    warnings = scheme_warnings(
        {k: v for k, v in metrics.items() if k in sources}, estimator=estimator
    )
    if estimator in ("ppi", "pacc"):
        leak = estimation_leak_warning(annotations, model_created)
        warnings += [leak] if leak else []
    # The main table repeats the time or group table when --by names one field. Listed first: the
    # overviews
    # (per period, per group), and in each the cells the model labeled, where a reader is most
    # easily misled.
    order = {"time": 0, "group": 1, "main": 2}
    flagged = flag_lines(
        sorted(
            (r for r in all_rows if r["table"] != "main" or len(by) > 1),
            key=lambda r: (order[r["table"]], not r["predicted_items"]),
        )
    )
    caution = _caution(warnings, flagged, min_n, max_width, estimator)
    shown = [r for r in all_rows if r["table"] != "main" or len(by) > 1]
    estimates = _estimates_html(shown, drill_rows, by)
    overall = [r for r in attention_rows if not group or r.get(group) is None]
    attention_html = _table(
        overall, [period, "articles", "all_articles", "share_of_all", "ci_low", "ci_high"]
    )
    drawn = drawer.results()
    # The attention figure (drawn after the per-scheme ones, once their items were known) opens.
    figures = [
        p for paths in drawn[scheme_figures:first_curve] + drawn[:scheme_figures] for p in paths
    ]
    curve_figures = [p for paths in drawn[first_curve:] for p in paths]
    page = _html(
        guide,
        figures,
        curve_figures,
        agreement,
        card,
        ledger_rows,
        projections,
        provenance,
        hourly_rate,
        by,
        caution,
        estimates,
        estimator,
        attention_html,
        target_f1,
    )
    path = out / "report.html"
    path.write_text(page, encoding="utf-8")
    return ReportResult(
        path,
        tables_out,
        figures + curve_figures,
        all_rows,
        warnings,
        flagged,
        provenance["not_labeled"],
    )


def _query_html(query: tuple[str, int] | None) -> str:
    """The population's statement when a search query defined it."""
    if query is None:
        return ""
    return (
        f'<p class="population"><strong>Population:</strong> the {query[1]} articles matching the'
        f" search query <code>{html.escape(query[0])}</code>; every share, count and interval below"
        " is over them only.</p>"
    )


def _not_labeled_html(guide: Guide, counts: dict[str, int]) -> str:
    """The sentence on articles the model did not label, so the shares' base is never silently
    smaller."""
    if not counts:
        return ""
    gate = f" ({guide.gate.name} not {guide.gate.gate!r})" if guide.gate is not None else ""
    parts = [f"{n} {why}" + (gate if why == "gated out" else "") for why, n in counts.items()]
    return (
        f" The model did not label {sum(counts.values())} articles:"
        f" {html.escape('; '.join(parts))}. Gated-out articles count in the gate's shares and in no"
        " other scheme's; articles in other languages in none."
    )


def _provenance(
    store: Store,
    sources: dict[str, Counter],
    since: str | None,
    until: str | None,
    model_id: str | None,
) -> dict[str, Any]:
    articles = list(store.iter_articles())
    groups = store.dup_groups()
    dates = sorted(a.published[:10] for a in articles if a.published)
    return {
        "generated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "articles": len(articles),
        "stories": len({groups.get(a.id, a.id) for a in articles}),
        "duplicates_removed": len(articles) - len({groups.get(a.id, a.id) for a in articles}),
        "outlets": dict(Counter(a.outlet or "unknown" for a in articles).most_common()),
        "languages": dict(Counter(a.lang or "unknown" for a in articles).most_common()),
        "dates": [dates[0], dates[-1]] if dates else None,
        "since": since,
        "until": until,
        "feeds": store.feeds(),
        "model": model_id,
        "label_sources": {k: dict(v) for k, v in sources.items()},
        "not_labeled": not_labeled(store, model_id),
    }


def not_labeled(store: Store, model_id: str | None) -> dict[str, int]:
    """{why: articles} the model ran on but did not label: 'gated out' (the relevance gate said no)
    or 'language
    not covered' (not among the guide's languages)."""
    from newsclf.model.skips import skip_kind

    if model_id is None:
        return {}
    return dict(
        Counter(skip_kind(reason) for reason in store.skipped(model_id).values()).most_common()
    )


METHOD_NOTES = {
    "ppi": (
        "Predicted shares are prediction-powered estimates (PPI++, power-tuned): the model's labels"
        " corrected by how far they fall from coders' labels on the random estimation sample (never"
        " on active-learning picks, seed batches or review decisions, which are not random), with"
        " 95% intervals that hold however good the model is. A cell with fewer than 30 estimation"
        " items of its own is corrected with all cells' estimation items pooled, through"
        " probabilistic adjusted classify-and-count (PACC, bootstrap interval), which assumes the"
        " model scores articles with and without a label alike in every cell, whatever the label's"
        " share there; each row of tables/coverage.csv says which (rectifier, rectifier_items)."
        " Without any estimation item a predicted share stays raw and is flagged."
    ),
    "pacc": (
        "Predicted shares are probabilistic adjusted classify-and-count estimates, unmixed through"
        " the mean probabilities the model gives articles with and without each label on the random"
        " estimation sample; bootstrap 95% intervals."
    ),
    "acc": (
        "Predicted shares are corrected for the model's cross-validated error (adjusted"
        " classify-and-count), with 95% intervals from a bootstrap that redraws both the counts and"
        " the error rates. With a weak model the correction divides by a small number: read the"
        " flags."
    ),
    "raw": (
        "Predicted shares are the model's labels as they are (classify and count), uncorrected:"
        " every error the model makes is in them."
    ),
}

CSS = """body{font-family:Georgia,serif;max-width:1000px;margin:2em \
auto;color:#111;line-height:1.45}
h1,h2,h3{font-family:Helvetica,Arial,sans-serif}table{border-collapse:collapse;margin:1em \
0;font-size:.9em}
td,th{border:1px solid #bbb;padding:.25em .5em;text-align:left}figure{margin:1.5em \
0}img{max-width:100%}
pre{background:#f4f4f4;padding:1em;overflow:auto;font-size:.85em}.note{color:#444;font-size:.9em}
.warning{border:2px solid #a00;background:#fff4f4;padding:.5em 1em;margin:1em 0}
.flags{border:1px solid #999;background:#f7f7f7;padding:.5em 1em;margin:1em 0;font-size:.9em}
.flagged{color:#777;font-style:italic}"""


def drilldown_rows(drill: dict[str, tuple[str, list[Item]]]) -> list[dict[str, Any]]:
    """One row per (cell, article): what the cell's numbers rest on (tables/drilldown.csv)."""
    rows = []
    for cid, (name, items) in drill.items():
        for item in sorted(items, key=lambda i: (i.article.published or "", i.article.id)):
            probs = item.probabilities or {}
            rows.append(
                {
                    "cell": cid,
                    "cell_name": name,
                    "id": item.article.id,
                    "title": item.article.title,
                    "outlet": item.article.outlet,
                    "published": (item.article.published or "")[:10],
                    "labels": ";".join(item.labels),
                    "source": item.source,
                    "sample": item.sample,
                    "probability": (
                        ";".join(f"{float(probs.get(lab, 0.0)):.2f}" for lab in item.labels)
                        if item.source == "predicted" and probs
                        else None
                    ),
                }
            )
    return rows


def _corrected_with(row: dict[str, Any]) -> str:
    """What a row's correction rests on, in a few words."""
    if not row["predicted_items"]:
        return "gold labels only"
    if row["rectifier"] in ("own", "pooled"):
        if row["rectifier"] == "own":
            return f"{row['rectifier_items']} of this cell's estimation items"
        return f"{row['rectifier_items']} estimation items of all cells, pooled (PACC)"
    if row["rectifier"] == "cross-validation":
        return "cross-validated error rates"
    return "nothing: uncorrected"


def _estimates_html(
    rows: Sequence[dict[str, Any]], drill_rows: Sequence[dict[str, Any]], by: Sequence[str]
) -> str:
    """The plotted numbers as a table whose every share links to the list of articles behind it."""
    fields = [f for f in by if any(r.get(f) is not None for r in rows)]
    head = "".join(
        f"<th>{html.escape(h)}</th>"
        for h in [
            "scheme",
            "target",
            *fields,
            "label",
            "share [95% CI]",
            "raw",
            "n",
            "n gold",
            "n estimation",
            "corrected with",
            "flag",
        ]
    )
    body = []
    for r in rows:
        flagged = bool(r.get("flagged"))
        cls = ' class="flagged" data-flagged="1"' if flagged else ""
        cells = [r["scheme"], r["target"] or "", *[r.get(f) or "" for f in fields], r["label"]]
        share = (
            f'<a class="share" href="#{r["cell"]}">{r["share"]:.2f}'
            f" [{r['ci_low']:.2f}-{r['ci_high']:.2f}]</a>" + (" (flagged)" if flagged else "")
        )
        body.append(
            f'<tr{cls} data-cell="{r["cell"]}">'
            + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells)
            + f"<td>{share}</td><td>{r['raw_share']:.2f}</td>"
            + f'<td><a href="#{r["cell"]}">{r["items"]}</a></td><td>{r["gold_items"]}</td>'
            + f"<td>{r['estimation_items']}</td><td>{html.escape(_corrected_with(r))}</td>"
            + f"<td>{html.escape(r.get('flag_reason') or '')}</td></tr>"
        )
    lists = []
    by_cell: dict[str, list[dict[str, Any]]] = {}
    for d in drill_rows:
        by_cell.setdefault(d["cell"], []).append(d)
    shown = {r["cell"] for r in rows}
    for cid, items in by_cell.items():
        if cid not in shown:
            continue
        trs = "".join(
            '<tr class="article">'
            + "".join(
                f"<td>{html.escape('' if d[c] is None else str(d[c]))}</td>"
                for c in ("id", "title", "outlet", "published", "labels", "source", "probability")
            )
            + "</tr>"
            for d in items
        )
        lists.append(
            f'<section class="drill" id="{cid}"><h4>{html.escape(items[0]["cell_name"])}:'
            f" {len(items)}"
            " articles</h4><table><tr><th>id</th><th>title</th><th>outlet</th><th>date</th>"
            "<th>labels</th><th>gold or predicted</th><th>probability</th></tr>"
            f"{trs}</table></section>"
        )
    return (
        f'<table class="estimates"><tr>{head}</tr>{"".join(body)}</table><h3>The articles behind'
        ' each estimate</h3><p class="note">Also in tables/drilldown.csv.</p>' + "".join(lists)
    )


def _figures(paths: Sequence[Path]) -> list[str]:
    """Each PNG inlined as a figure, its SVG twin named in the caption."""
    out = []
    for path in paths:
        if path.suffix == ".png":
            data = base64.b64encode(path.read_bytes()).decode("ascii")
            out.append(
                f'<figure><img alt="{html.escape(path.stem)}"'
                f' src="data:image/png;base64,{data}"><figcaption>{html.escape(path.stem)} (also as'
                f" SVG: figures/{path.stem}.svg)</figcaption></figure>"
            )
    return out


def _markdown(text: str) -> str:
    """The model card's and agreement's Markdown as HTML (tables as tables); raw HTML in it stays
    text."""
    from markdown_it import MarkdownIt

    return MarkdownIt("js-default").render(text)  # js-default: tables on, raw HTML off


def _caution(
    warnings: list[str], flagged: list[str], min_n: int, max_width: float, estimator: str
) -> str:
    """The report's opening: weak models in a warning box, then every flagged estimate by name."""
    parts = []
    if warnings:
        items = "".join(f"<li>{html.escape(w)}</li>" for w in warnings)
        parts.append(
            f'<div class="warning" role="alert"><strong>Weak model</strong><ul>{items}</ul></div>'
        )
    if flagged:
        items = "".join(f"<li>{html.escape(f)}</li>" for f in flagged)
        parts.append(
            '<div class="flags"><strong>Estimates to read with care</strong> (drawn hollow and'
            f" grey: fewer than {min_n} articles, or a 95% interval wider than"
            f" {max_width:.2f})<ul>{items}</ul></div>"
        )
    return "".join(parts)


def _table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape('' if r.get(c) is None else str(r.get(c)))}</td>" for c in columns
        )
        + "</tr>"
        for r in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _codebook(guide: Guide) -> str:
    parts = [f"<p>{html.escape(guide.description or '')}</p>"]
    for scheme in guide.schemes:
        kind = "any number of labels" if scheme.kind == "multi" else "exactly one label"
        target = f"; default target: {html.escape(scheme.target)}" if scheme.target else ""
        parts.append(f"<h3>{html.escape(scheme.name)} ({kind}{target})</h3><dl>")
        for lab in scheme.labels:
            extra = "".join(
                f"<br><em>{t}:</em> " + "; ".join(html.escape(x) for x in items)
                for t, items in (("Include", lab.include), ("Exclude", lab.exclude))
                if items
            )
            parts.append(
                f"<dt><strong>{html.escape(lab.name)}</strong> (<code>{lab.id}</code>, key "
                f"<code>{html.escape(lab.key)}</code>)</dt><dd>{html.escape(lab.definition)}{extra}</dd>"
            )
        parts.append("</dl>")
    return "".join(parts)


def _html(
    guide: Guide,
    figures: list[Path],
    curve_figures: list[Path],
    agreement: dict[str, Any],
    card: str,
    ledger_rows: list[dict[str, Any]],
    projections: dict[str, Any],
    provenance: dict[str, Any],
    hourly_rate: float,
    by: Sequence[str],
    caution: str = "",
    estimates: str = "",
    estimator: str = "ppi",
    attention: str = "",
    target_f1: float = 0.8,
) -> str:
    figs, curves = _figures(figures), _figures(curve_figures)
    agreement_html = _markdown(methods_table(agreement))
    proj_rows = [
        {"scheme": k, **{kk: vv for kk, vv in v.items() if kk != "fit"}}
        for k, v in projections.items()
    ]
    src = "; ".join(
        f"{k}: {v.get('gold', 0)} gold, {v.get('predicted', 0)} predicted"
        for k, v in provenance["label_sources"].items()
    )
    feeds = (
        _table(provenance["feeds"], ["url", "last_polled", "last_status", "entries", "last_error"])
        if provenance["feeds"]
        else "<p>No feeds were polled; articles were imported or collected directly.</p>"
    )
    outlets = [{"outlet": k, "articles": v} for k, v in provenance["outlets"].items()]
    languages = [{"language": k, "articles": v} for k, v in provenance["languages"].items()]
    ledger_columns = ["labeler", "scheme", "items", "timed_items", "hours", "labels_per_hour"]
    ledger_table = _table(ledger_rows, [*ledger_columns, "median_seconds", "cost"])
    proj_columns = [
        "scheme",
        "target_f1",
        "labels",
        "more_labels",
        "more_hours",
        "more_cost",
        "note",
    ]
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>newsclf report: {html.escape(guide.name)}</title>
<style>{CSS}</style></head><body>
<h1>Coverage report: {html.escape(guide.name)} (guide version {html.escape(guide.version)})</h1>
{caution}
{_query_html(provenance["query"])}
<p class="note">Generated {provenance["generated"]}. Grouped by {html.escape(", ".join(by))}. \
Shares use gold labels where
coders labeled an article and model predictions elsewhere ({html.escape(src)}). \
{html.escape(METHOD_NOTES[estimator])}
Raw shares and Wilson intervals are in tables/coverage.csv beside the corrected ones. \
Near-duplicate copies count once.</p>
<h2>How much coverage</h2>
<p class="note">Stories (near-duplicates once) per period in the report's population, beside every \
story the store holds
for the period: the share is the population's normalised attention, with its Wilson 95% interval \
(tables/attention.csv
has it per group too).</p>
{attention}
<h2>Figures</h2>{"".join(figs)}
<h2>Estimates</h2>
<p class="note">Every plotted number with its n: articles in the cell, how many carry a coder's \
(gold) label, and
how many of those belong to the random estimation sample. Follow a share or its n to the articles \
behind it.</p>
{estimates}
<h2>Data and provenance</h2>
<p>{provenance["articles"]} articles, {provenance["stories"]} distinct stories \
({provenance["duplicates_removed"]} duplicate
copies removed), published {html.escape(" to ".join(provenance["dates"] or ["?", "?"]))}; model:
{html.escape(str(provenance["model"]))}.{_not_labeled_html(guide, provenance["not_labeled"])}</p>
{_table(outlets, ["outlet", "articles"])}
{_table(languages, ["language", "articles"])}
{feeds}
<h2>Inter-coder agreement</h2>{agreement_html}
<h2>Labeling ledger</h2>
<p class="note">Hours from the seconds recorded per item; cost at {hourly_rate:.2f} per hour.</p>
{ledger_table}
<h3>Labels to reach a macro-F1 of {target_f1:.2f}</h3>
{_table(proj_rows, proj_columns)}
{"".join(curves)}
<h2>Model card</h2>{_markdown(card) if card else "<p>No model given: gold labels only.</p>"}
<h2>Codebook</h2>{_codebook(guide)}
</body></html>
"""
