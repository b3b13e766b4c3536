"""Figures a paper can use (matplotlib, PNG and SVG), readable in greyscale: line styles and
markers, not colour alone."""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable, Sequence

import matplotlib

matplotlib.use("Agg")  # no display on servers and in CI
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.layout_engine import TightLayoutEngine  # noqa: E402

STYLES = [
    ("-", "o"),
    ("--", "s"),
    (":", "^"),
    ("-.", "D"),
    ((0, (5, 1)), "v"),
    ((0, (1, 1)), "P"),
    ((0, (3, 1, 1, 1)), "X"),
    ((0, (5, 3)), "*"),
]
GREYS = ["0.0", "0.35", "0.55", "0.2", "0.45", "0.65", "0.1", "0.3"]


# Panels a row in the small-multiple figures: three 3.4-inch panels fit a page's width.
PANEL_COLUMNS = 3


def _panel_grid(n_panels: int, columns: int, height: float) -> tuple[Any, Any]:
    """A figure of `n_panels` small panels with shared axes, `columns` a row, 3.4 inches wide and
    `height` tall each (the grid's places beyond them hidden)."""
    n_rows = max(1, (n_panels + columns - 1) // columns)
    fig, axes = plt.subplots(
        n_rows,
        columns,
        figsize=(3.4 * columns, height * n_rows),
        sharex=True,
        sharey=True,
        squeeze=False,
    )
    for ax in axes.flat[n_panels:]:
        ax.set_visible(False)
    return fig, axes


def _style(i: int) -> dict[str, Any]:
    line, marker = STYLES[i % len(STYLES)]
    return {
        "linestyle": line,
        "marker": marker,
        "color": GREYS[i % len(GREYS)],
        "markersize": 5,
        "linewidth": 1.5,
    }


PNG_DPI = 130


def _tight_layout(fig: Any) -> None:
    """fig.tight_layout() without leaving a layout engine on the figure.

    With any engine set (tight_layout leaves a placeholder one), every savefig draws the whole
    figure once more before drawing it for the file, only to lay it out again.
    """
    TightLayoutEngine().execute(fig)


def _save(fig: Any, out_dir: Path, name: str) -> list[Path]:
    """The figure as PNG and SVG, both cropped to the box of what it draws.

    savefig(bbox_inches="tight") draws the figure an extra time per file just to measure it; here
    it is measured once, at the PNG's resolution (the box bbox_inches="tight" finds: tested), and
    both files get that box.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / f"{name}.png", out_dir / f"{name}.svg"]
    fig.set_dpi(PNG_DPI)
    box = fig.get_tightbbox().padded(matplotlib.rcParams["savefig.pad_inches"])
    fig.savefig(paths[0], dpi=PNG_DPI, bbox_inches=box)
    fig.savefig(paths[1], bbox_inches=box)
    plt.close(fig)
    return paths


class Drawer:
    """Draws figures in worker processes while the caller goes on; `results()` waits for them all.

    A report's figures are independent and matplotlib is single-threaded Python: on two cores,
    two workers halve the wait. Workers are forked, so they start with matplotlib already imported
    (a fresh interpreter would spend most of a figure's time importing it), and only where forking
    is safe: on Linux, from a process with no other thread. Elsewhere, or with `workers` 1, each
    figure is drawn at once in this process. The files are the same either way.
    """

    def __init__(self, workers: int | None = None):
        if workers is None:
            workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
        safe = sys.platform == "linux" and threading.active_count() == 1
        # Forked now, before the pool starts its own threads: a fork from a threaded process can
        # inherit a lock some other thread held.
        self._pool = (
            multiprocessing.get_context("fork").Pool(workers) if workers > 1 and safe else None
        )
        self.queued: list[Any] = []  # a figure's paths, or the pool's promise of them

    def draw(self, plot: Callable[..., list[Path]], *args: Any) -> None:
        """Queue `plot(*args)` (a function of this module); its paths come back from results()."""
        if self._pool is None:
            self.queued.append(plot(*args))
        else:
            self.queued.append(self._pool.apply_async(plot, args))

    def results(self) -> list[list[Path]]:
        """Each queued figure's paths, in the order they were queued, once all are written."""
        try:
            return [p if self._pool is None else p.get() for p in self.queued]
        finally:
            self.close()

    def close(self) -> None:
        """Stop the workers: at once if figures are still being drawn (the report failed)."""
        if self._pool is not None:
            if all(p.ready() for p in self.queued):
                self._pool.close()
            else:
                self._pool.terminate()
            self._pool.join()
            self._pool = None

    def __enter__(self) -> "Drawer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _points(
    ax: Any,
    xs: Sequence[float],
    ys: Sequence[float],
    flagged: Sequence[bool],
    marker: str = "o",
    color: str = "0.0",
) -> None:
    """Markers: filled where the estimate can be read, hollow and grey where it is flagged (too few,
    too wide)."""
    solid = [(x, y) for x, y, f in zip(xs, ys, flagged) if not f]
    hollow = [(x, y) for x, y, f in zip(xs, ys, flagged) if f]
    if solid:
        ax.plot(*zip(*solid), linestyle="none", marker=marker, color=color, markersize=5)
    if hollow:
        ax.plot(
            *zip(*hollow),
            linestyle="none",
            marker=marker,
            markerfacecolor="white",
            markeredgecolor="0.6",
            markersize=6,
        )


def share_over_time(
    rows: Sequence[dict[str, Any]], period: str, title: str, out_dir: Path, name: str
) -> list[Path]:
    """One panel per label: its corrected share per period as a line, its 95% interval as a band.

    Panels rather than one crowded chart: overlapping bands of six labels read as grey fog in print.
    """
    series: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        if row[period] != "unknown":
            series[row["label"]].append(row)
    labels = list(dict.fromkeys(r["label"] for r in rows if r["label"] in series))  # guide order
    periods = sorted({r[period] for rs in series.values() for r in rs})
    x_of = {p: i for i, p in enumerate(periods)}
    fig, axes = _panel_grid(len(labels), min(PANEL_COLUMNS, max(1, len(labels))), 2.5)
    for ax, label in zip(axes.flat, labels):
        rs = sorted(series[label], key=lambda r: r[period])
        xs = [x_of[r[period]] for r in rs]
        ax.fill_between(
            xs, [r["ci_low"] for r in rs], [r["ci_high"] for r in rs], color="0.8", linewidth=0
        )
        ax.plot(xs, [r["share"] for r in rs], **{**_style(0), "marker": None})
        _points(ax, xs, [r["share"] for r in rs], [bool(r.get("flagged")) for r in rs])
        ax.plot(xs, [r["raw_share"] for r in rs], linestyle=":", color="0.45", linewidth=1)
        ax.set_title(label, fontsize=9)
        ax.set_ylim(0, 1)
        ax.grid(axis="y", color="0.9")
    n_of = {r[period]: r["items"] for rs in series.values() for r in rs}
    for ax in axes[-1]:
        ax.set_xticks(
            range(len(periods)),
            [f"{p}\nn={n_of[p]}" for p in periods],
            rotation=60,
            ha="right",
            fontsize=7,
        )
    fig.suptitle(
        title + "\n(solid: corrected share, band: 95% interval, dotted: raw share; "
        "hollow grey: flagged, too few articles or too wide an interval)",
        fontsize=10,
    )
    _tight_layout(fig)
    return _save(fig, out_dir, name)


def small_multiples(
    rows: Sequence[dict[str, Any]], panel: str, period: str, title: str, out_dir: Path, name: str
) -> list[Path]:
    """One small panel per outlet (or other group): share over time per label, shared axes."""
    panels: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        panels[row[panel]].append(row)
    names = sorted(panels)
    fig, axes = _panel_grid(len(names), PANEL_COLUMNS, 2.4)
    periods = sorted({r[period] for r in rows if r[period] != "unknown"})
    x_of = {p: i for i, p in enumerate(periods)}
    labels = sorted({r["label"] for r in rows})
    for ax, group in zip(axes.flat, names):
        for i, label in enumerate(labels):
            rs = sorted(
                (r for r in panels[group] if r["label"] == label and r[period] in x_of),
                key=lambda r: r[period],
            )
            if rs:
                style = _style(i)
                xs, ys = [x_of[r[period]] for r in rs], [r["share"] for r in rs]
                ax.plot(xs, ys, label=label, **style)
                _points(
                    ax,
                    xs,
                    ys,
                    [bool(r.get("flagged")) for r in rs],
                    style["marker"],
                    style["color"],
                )
        n_total = sum({r[period]: r["items"] for r in panels[group]}.values())
        ax.set_title(f"{group} (n={n_total})", fontsize=9)
        ax.set_ylim(0, 1)
        ax.grid(axis="y", color="0.88")
    for ax in axes[-1]:
        ax.set_xticks(range(len(periods)), periods, rotation=60, ha="right", fontsize=7)
    handles, texts = axes.flat[0].get_legend_handles_labels()
    fig.legend(
        handles,
        texts,
        loc="upper center",
        ncol=min(6, len(labels)),
        frameon=False,
        fontsize=8,
        bbox_to_anchor=(0.5, 1.02),
    )
    fig.suptitle(title, y=1.07)
    return _save(fig, out_dir, name)


def by_group(
    rows: Sequence[dict[str, Any]], group: str, title: str, out_dir: Path, name: str
) -> list[Path]:
    """Dot-and-whisker plot: each label's corrected share per group (e.g. stance by outlet), with
    95% CIs."""
    groups = sorted({r[group] for r in rows})
    labels = sorted(
        {r["label"] for r in rows},
        key=lambda lab: next(i for i, r in enumerate(rows) if r["label"] == lab),
    )
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(groups) * max(1, len(labels) / 2) + 1.2))
    height = 0.8 / max(1, len(labels))
    for i, label in enumerate(labels):
        for j, g in enumerate(groups):
            r = next((r for r in rows if r[group] == g and r["label"] == label), None)
            if r is None:
                continue
            y = j + (i - (len(labels) - 1) / 2) * height
            style = _style(i)
            flagged = bool(
                r.get("flagged")
            )  # hollow and grey: too few articles or too wide an interval
            ax.errorbar(
                r["share"],
                y,
                xerr=[[r["share"] - r["ci_low"]], [r["ci_high"] - r["share"]]],
                fmt=style["marker"],
                color="0.6" if flagged else style["color"],
                capsize=2,
                markersize=5,
                markerfacecolor="white" if flagged else style["color"],
                label=label if j == 0 else None,
            )
    ax.set_yticks(
        range(len(groups)),
        [f"{g} (n={next(r['items'] for r in rows if r[group] == g)})" for g in groups],
    )
    ax.set_xlim(0, 1)
    ax.set_xlabel("share (corrected), 95% CI; hollow grey: flagged")
    ax.set_title(title)
    ax.grid(axis="x", color="0.88")
    ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _save(fig, out_dir, name)


def attention(
    rows: Sequence[dict[str, Any]],
    group: str | None,
    period: str,
    title: str,
    out_dir: Path,
    name: str,
) -> list[Path]:
    """How much coverage: articles per period, one line per group, with each period's n on the axis.

    Where the store holds more articles than the report's population, a second panel shows the
    population's share of all stored articles per period (normalised attention), with 95% intervals.
    """
    periods = sorted({r[period] for r in rows if r[period] != "unknown"})
    if not periods:
        return []
    x_of = {p: i for i, p in enumerate(periods)}
    overall = [r for r in rows if r.get(group) is None] if group else list(rows)
    normalised = any(r["all_articles"] > r["articles"] for r in overall)
    fig, axes = plt.subplots(
        1, 2 if normalised else 1, figsize=(11 if normalised else 6.5, 3.4), squeeze=False
    )
    ax = axes[0][0]
    groups = sorted({r[group] for r in rows if r.get(group) is not None}) if group else []
    for i, g in enumerate(groups or [None]):
        rs = (
            sorted(
                (r for r in rows if r.get(group) == g and r[period] in x_of),
                key=lambda r: r[period],
            )
            if group
            else sorted((r for r in rows if r[period] in x_of), key=lambda r: r[period])
        )
        if rs:
            ax.plot(
                [x_of[r[period]] for r in rs],
                [r["articles"] for r in rs],
                label=g or "all",
                **_style(i),
            )
    totals = {r[period]: r["articles"] for r in overall if r[period] in x_of}
    ticks = [f"{p}\nn={totals.get(p, 0)}" for p in periods]
    ax.set_xticks(range(len(periods)), ticks, rotation=60, ha="right", fontsize=7)
    ax.set_ylabel("articles (stories)")
    ax.set_title("articles per " + period, fontsize=9)
    ax.grid(axis="y", color="0.9")
    if groups:
        ax.legend(frameon=False, fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    if normalised:
        bx = axes[0][1]
        rs = sorted((r for r in overall if r[period] in x_of), key=lambda r: r[period])
        xs = [x_of[r[period]] for r in rs]
        bx.fill_between(
            xs, [r["ci_low"] for r in rs], [r["ci_high"] for r in rs], color="0.85", linewidth=0
        )
        bx.plot(xs, [r["share_of_all"] for r in rs], **_style(0))
        bx.set_xticks(
            range(len(periods)),
            [
                f"{p}\nof {r_all}"
                for p, r_all in (
                    (p, next((r["all_articles"] for r in rs if r[period] == p), 0)) for p in periods
                )
            ],
            rotation=60,
            ha="right",
            fontsize=7,
        )
        bx.set_ylim(0, 1)
        bx.set_title("share of all stored articles (normalised attention), 95% CI", fontsize=9)
        bx.grid(axis="y", color="0.9")
    fig.suptitle(title, fontsize=10)
    _tight_layout(fig)
    return _save(fig, out_dir, name)


def learning_curve(
    points: Sequence[dict[str, float]],
    fit: dict[str, float] | None,
    target_f1: float,
    needed: int | None,
    title: str,
    out_dir: Path,
    name: str,
) -> list[Path]:
    """Macro-F1 against labels (log axis) with the fitted projection F1 = a + b ln(labels) and the
    target."""
    import math

    xs, ys = [p["labels"] for p in points], [p["macro_f1"] for p in points]
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    ax.plot(xs, ys, linestyle="none", marker="o", color="0.0", label="cross-validated macro-F1")
    for x, y in zip(xs, ys):
        ax.annotate(f"n={x}", (x, y), textcoords="offset points", xytext=(3, -10), fontsize=7)
    if fit:
        end = max(max(xs), needed or 0) * 1.2
        grid = [min(xs) * (end / min(xs)) ** (i / 50) for i in range(51)]
        ax.plot(
            grid,
            [fit["a"] + fit["b"] * math.log(g) for g in grid],
            linestyle="--",
            color="0.4",
            label="log-linear fit (projection)",
        )
    ax.axhline(target_f1, linestyle=":", color="0.5", label=f"target {target_f1:.2f}")
    if needed:
        ax.axvline(needed, linestyle=":", color="0.7")
        ax.annotate(
            f"{needed} labels",
            (needed, target_f1),
            textcoords="offset points",
            xytext=(4, 4),
            fontsize=7,
        )
    ax.set_xscale("log")
    ax.set_ylim(0, 1)
    ax.set_xlabel("labeled items (log scale)")
    ax.set_ylabel("macro-F1")
    ax.set_title(title, fontsize=9)
    ax.legend(frameon=False, fontsize=7, loc="lower right")
    ax.grid(color="0.92")
    return _save(fig, out_dir, name)
