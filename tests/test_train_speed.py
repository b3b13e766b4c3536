"""Training in parallel (--jobs) gives the same model as in one process; --no-cv keeps the previous
metrics, marked; what training shares between fits (n-gram indexes, row spans) changes no model."""

from __future__ import annotations

import contextlib
import gc
import json
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp
from click.testing import CliRunner
from conftest import GUIDE, write_jsonl
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold
from support import make_rows

from newsclf.article import Article
from newsclf.cli import main
from newsclf.guide import load_guide
from newsclf.model import classifier, features, logistic
from newsclf.model.classifier import InSpan
from newsclf.model.features import (
    CharNgrams,
    DocText,
    HashtagWords,
    NgramIndex,
    WordNgrams,
    as_doc,
    shared_ngrams,
)
from newsclf.model.predict import load_model
from newsclf.model.splits import stratified_group_folds
from newsclf.model.train import _fit_fold, make_classifier, ngram_indexes, run_tasks


def _pid(*_: object) -> int:
    return os.getpid()


def _train(tmp, train_file, out, *extra):
    result = CliRunner().invoke(
        main,
        [
            "--db",
            str(tmp / "db.sqlite"),
            "train",
            "--guide",
            str(GUIDE),
            "--data",
            str(train_file),
            "--out",
            str(out),
            "--folds",
            "3",
            *extra,
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("speed")
    return tmp, write_jsonl(tmp / "train.jsonl", make_rows(60, 1)), make_rows(20, 2)


def test_run_tasks_uses_other_processes_only_when_asked():
    tasks = [(_pid, (None, None, [0] * 10))] * 4
    assert set(run_tasks(tasks, jobs=1)) == {os.getpid()}
    assert os.getpid() not in run_tasks(tasks, jobs=2)


def test_jobs_1_and_2_train_the_same_model_and_metrics(data):
    tmp, train_file, test_rows = data
    _train(tmp, train_file, tmp / "one", "--jobs", "1")
    _train(tmp, train_file, tmp / "two", "--jobs", "2")
    one, two = (json.loads((tmp / d / "metrics.json").read_text()) for d in ("one", "two"))
    assert set(one) == {"topics", "stance"}
    assert one == two
    m1, m2 = load_model(tmp / "one"), load_model(tmp / "two")
    docs = [
        as_doc(Article(id=r["id"], title=r["title"], text=r["text"], lang="en"), "OpenAI")
        for r in test_rows
    ]
    for scheme in ("topics", "stance"):
        c1, c2 = m1.pipeline(scheme), m2.pipeline(scheme)
        assert c1.C_ == c2.C_
        np.testing.assert_array_equal(c1.predict_proba(docs), c2.predict_proba(docs))


def test_no_cv_on_a_fresh_directory_says_there_are_no_figures(data):
    tmp, train_file, _ = data
    result = _train(tmp, train_file, tmp / "fresh", "--no-cv")
    assert "no cross-validation" in result.output
    metrics = json.loads((tmp / "fresh" / "metrics.json").read_text())
    for scheme in ("topics", "stance"):
        assert metrics[scheme]["cross_validated"] is False
        assert "macro_f1" not in metrics[scheme] and "confusion" not in metrics[scheme]
        assert "previous_model" not in metrics[scheme]
    card = (tmp / "fresh" / "card.md").read_text()
    assert card.count("**Not cross-validated**") == 2 and "no quality figures" in card
    assert "Macro-F1 **" not in card
    assert json.loads((tmp / "fresh" / "meta.json").read_text())["cross_validated"] is False
    assert load_model(tmp / "fresh").predict(
        [Article(id="x", title="t", text="the regulator opened an inquiry", lang="en")]
    )


def test_no_cv_carries_the_previous_models_metrics_marked_as_not_this_models(data):
    tmp, train_file, _ = data
    out = tmp / "iter"
    _train(tmp, train_file, out)
    first_meta = json.loads((out / "meta.json").read_text())
    first = json.loads((out / "metrics.json").read_text())
    assert first["topics"]["macro_f1"] > 0
    for _ in range(2):  # a second --no-cv run still carries the last measured model's figures
        _train(tmp, train_file, out, "--no-cv")
        meta = json.loads((out / "meta.json").read_text())
        assert meta["model_id"] != first_meta["model_id"]
        metrics = json.loads((out / "metrics.json").read_text())
        for scheme in ("topics", "stance"):
            entry = metrics[scheme]
            assert (
                entry["cross_validated"] is False
                and "macro_f1" not in entry
                and "confusion" not in entry
            )
            prev = entry["previous_model"]
            assert prev["model_id"] == first_meta["model_id"]
            assert prev["metrics"] == first[scheme]
            assert "not of this model" in prev["note"]
        card = (out / "card.md").read_text()
        assert f"Earlier model {first_meta['model_id']} (not this model)" in card
        assert f"Macro-F1 **{first['topics']['macro_f1']:.3f}**" in card


def test_bench_train_skips_a_data_set_whose_folder_is_missing(tmp_path, monkeypatch):
    import bench.datasets
    from bench.train import bench_dataset

    monkeypatch.setattr(bench.datasets, "DATA", tmp_path)  # an empty data folder: nothing to load
    row = bench_dataset(bench.datasets.BY_NAME["bbc"], limit=10, jobs=1)
    assert row[:2] == ["bbc", "skipped: not found"]


def _docs(rows, target="OpenAI"):
    return [
        as_doc(Article(id=r["id"], title=r["title"], text=r["text"], lang="en"), target)
        for r in rows
    ]


def _columns(block):
    """A fitted block's columns as n-grams: keys for chars, token strings for words (whose token
    ids an index assigns over all its texts)."""
    if not isinstance(block, WordNgrams):
        return list(block.vocabulary_)
    token = {i: t for t, i in block.tokens_.items()}
    return [
        token[k] if k < 1 << 31 else token[(k >> 31) - 1] + " " + token[k & ((1 << 31) - 1)]
        for k in block.vocabulary_.tolist()
    ]


@pytest.mark.parametrize("block", [CharNgrams(), WordNgrams()])
def test_a_fit_through_the_shared_ngram_index_is_the_plain_fit(block):
    texts = [d["title"] + " " + d["text"] for d in _docs(make_rows(80, 3))]
    index = NgramIndex(clone(block), texts)
    part, held_out = texts[10:70], texts[:10] + texts[70:]
    plain = clone(block)
    A, P = plain.fit_transform(part), plain.transform(held_out)
    shared = clone(block)
    with shared_ngrams({shared._index_key(): index}):
        B, Q = shared.fit_transform(part), shared.transform(held_out)
    names, shared_names = _columns(plain), _columns(shared)
    assert sorted(names) == sorted(shared_names)
    order = np.array([shared_names.index(n) for n in names])  # shared's column of each plain column
    for X, Y in ((A, B), (P, Q)):
        np.testing.assert_allclose(X.toarray(), Y[:, order].toarray(), rtol=1e-6)
    if isinstance(block, CharNgrams):  # the same keys: the same matrices, bit for bit
        assert (A != B).nnz == 0 and (P != Q).nnz == 0


@pytest.mark.parametrize("scheme", ["topics", "stance"])
def test_folds_fitted_through_shared_indexes_predict_as_plain_folds(scheme):
    guide = load_guide(GUIDE)
    rows = make_rows(70, 4)
    docs = _docs(rows)
    y = [r["labels"][scheme] for r in rows]
    sch = guide.scheme(scheme)
    shared = ngram_indexes(sch, "linear", docs)
    assert shared
    P, labels = _fit_fold(sch, "linear", docs[:50], y[:50], docs[50:])
    Q, labels_shared = _fit_fold(sch, "linear", docs[:50], y[:50], docs[50:], None, shared)
    np.testing.assert_array_equal(P, Q)
    assert labels == labels_shared


def test_a_regression_in_the_span_of_its_rows_is_the_plain_one():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 120))
    y = (X[:, 0] + 0.5 * rng.normal(size=40) > 0).astype(int)
    plain = LogisticRegression(C=3.0, tol=1e-10, max_iter=10_000).fit(X, y)
    span = InSpan(X).fit(LogisticRegression(C=3.0, tol=1e-10, max_iter=10_000), y).plain()
    np.testing.assert_allclose(span.coef_, plain.coef_, atol=1e-6)
    np.testing.assert_allclose(span.predict_proba(X), plain.predict_proba(X), atol=1e-8)


def _warm(old: LogisticRegression | None, C: float, weights: str | None) -> LogisticRegression:
    """A warm-starting regression at C: `old` with C set, or a new one."""
    if old is not None:
        return old.set_params(C=C)
    return LogisticRegression(C=C, class_weight=weights, tol=1e-4, max_iter=3000, warm_start=True)


@pytest.mark.parametrize(
    "n, d, k, weights",
    [(1000, 300, 2, "balanced"), (200, 60, 3, None), (1000, 300, 4, "balanced"), (60, 40, 5, None)],
)
def test_the_lean_dense_fit_is_scikit_learns_fit_step_for_step(n, d, k, weights):
    # The same objective, solver and stopping rule: the same iterations and coefficients, cold
    # and warm-started along the C grid. 1,000 x 300 spans several blocks (BLOCK_BYTES), 60 x 40
    # one.
    rng = np.random.default_rng(k)
    X = rng.normal(size=(n, d))
    y = np.array(["neg", "pos", "none", "pro", "con"])[rng.integers(0, k, n)]
    y[:k] = np.array(["neg", "pos", "none", "pro", "con"])[:k]  # every class present
    assert logistic.handles(LogisticRegression(), X) and (len(logistic._blocks(X)) > 1) == (
        n == 1000
    )
    ours = theirs = None
    for C in (1.0, 3.0, 10.0):
        theirs = _warm(theirs, C, weights).fit(X, y)
        ours = logistic.fit_dense(_warm(ours, C, weights), X, y)
        assert ours.n_iter_[0] == theirs.n_iter_[0]
        np.testing.assert_array_equal(ours.classes_, theirs.classes_)
        np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-9)
        np.testing.assert_allclose(ours.intercept_, theirs.intercept_, atol=1e-9)
        np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-10)


def test_the_lean_dense_fit_leaves_sparse_rows_and_other_solvers_to_scikit_learn():
    X = np.zeros((4, 3))
    assert not logistic.handles(LogisticRegression(), sp.csr_matrix(X))
    assert not logistic.handles(LogisticRegression(solver="newton-cg"), X)
    assert not logistic.handles(LogisticRegression(class_weight={0: 2.0}), X)
    assert not logistic.handles(LogisticRegression(), X.astype(np.float32))
    with pytest.raises(ValueError, match="two classes"):
        logistic.fit_dense(LogisticRegression(), X, np.zeros(4))
    # A fit stopped by max_iter warns as scikit-learn's does.
    rng = np.random.default_rng(0)
    Xr, yr = rng.normal(size=(50, 20)), np.arange(50) % 3
    with pytest.warns(ConvergenceWarning, match="failed to converge after 2 iterations"):
        logistic.fit_dense(LogisticRegression(max_iter=2), Xr, yr)


@pytest.mark.parametrize("scheme", ["topics", "stance"])
def test_a_scheme_fitted_over_its_columns_predicts_as_in_the_row_span(scheme, monkeypatch):
    # Large schemes are fitted over their sparse columns (newton-cg), small ones in the span of
    # their rows (lbfgs): the same optimum, so the same model up to the solvers' tolerance. C is
    # fixed: on 70 made-up docs the grid's scores tie within that tolerance.
    guide = load_guide(GUIDE)
    rows = make_rows(90, 5)
    docs, y = _docs(rows), [r["labels"][scheme] for r in rows]
    sch = guide.scheme(scheme)
    span = make_classifier(sch, C=3.0, per_target_min=20).fit(docs[:70], y[:70])
    monkeypatch.setattr(classifier, "ROW_SPACE_MAX", 0)
    columns = make_classifier(sch, C=3.0, per_target_min=20).fit(docs[:70], y[:70])
    if scheme == "stance":
        assert span.core_[1] and span.core_[1].keys() == columns.core_[1].keys()
    np.testing.assert_allclose(
        columns.predict_proba(docs[70:]), span.predict_proba(docs[70:]), atol=1e-2
    )


FORKED_RUN = """
import os
from newsclf.model import train

train.SET_IN_PARENT = "yes"  # a forked worker sees it; a freshly started one would not


def task(*_):
    return os.getpid(), getattr(train, "SET_IN_PARENT", None)


results = train.run_tasks([(task, (None, None, [0] * 10))] * 4, jobs=2)
assert all(pid != os.getpid() and seen == "yes" for pid, seen in results), results
print("forked", len({pid for pid, _ in results}))
"""


def test_run_tasks_forks_its_workers_from_a_single_threaded_process(tmp_path):
    # In a fresh interpreter: this test run's own threads (servers of other tests) rightly keep
    # run_tasks from forking, and it then starts loky workers instead.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, "-c", FORKED_RUN], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("forked ")


@pytest.mark.parametrize("seed", range(6))
def test_stratified_group_folds_are_scikit_learns_folds(seed):
    # Random sizes, class counts, repeated texts (string groups) and seeds; one fold of each run
    # is also checked to keep every group on one side.
    rng = np.random.default_rng(seed)
    n, k, c = int(rng.integers(30, 600)), int(rng.integers(2, 6)), int(rng.integers(2, 5))
    strata = rng.integers(0, c, n)
    strata[: c * k] = np.repeat(np.arange(c), k)
    groups = np.array([f"text {g}" for g in rng.integers(0, max(k, n // 2), n)])
    theirs = list(
        StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed).split(
            np.zeros(n), strata, groups
        )
    )
    ours = stratified_group_folds(k, strata, groups, seed)
    assert len(ours) == len(theirs) == k
    for (train, test), (their_train, their_test) in zip(ours, theirs):
        np.testing.assert_array_equal(train, their_train)
        np.testing.assert_array_equal(test, their_test)
    train, test = ours[0]
    assert not set(groups[train]) & set(groups[test])


def test_c_is_chosen_on_one_grouped_hold_out_above_the_row_span_limit():
    # Up to HOLDOUT_ABOVE docs, 3 inner folds; above it, one fifth held out, a text's rows (one
    # article, several targets) all on one side.
    clf = make_classifier(load_guide(GUIDE).scheme("stance"))
    for n in (classifier.HOLDOUT_ABOVE, classifier.HOLDOUT_ABOVE + 1):
        groups = np.arange(n) // 2
        strata = np.arange(n) % 3
        splits = clf._inner_splits(groups, strata)
        assert len(splits) == (3 if n == classifier.HOLDOUT_ABOVE else 1)
        for train, test in splits:
            assert len(train) + len(test) == n and not set(groups[train]) & set(groups[test])
        if len(splits) == 1:
            assert abs(len(splits[0][1]) - 0.2 * n) <= 2


def test_a_sparse_fit_over_merged_columns_is_the_fit_over_every_column():
    # Columns with a value in one row only merge into one column per row, and empty columns drop
    # out: the same optimum, cold and warm-started along the C grid, on fewer columns.
    rng = np.random.default_rng(0)
    lone = sp.random(120, 2000, density=0.004, random_state=1, format="csr")
    common = sp.random(120, 40, density=0.3, random_state=2, format="csr")
    lone.data[lone.indptr[0] : lone.indptr[1]] = 0.0  # stored zeros, as some builders leave them
    X = sp.hstack([lone, common, sp.csr_matrix((120, 5))], format="csr")
    assert (X.data == 0).any()  # row 0's lone columns hold stored zeros only
    y = np.array(["neg", "pos", "none"])[rng.integers(0, 3, 120)]
    merged = logistic.MergedColumns(X)
    assert merged.X.shape[1] < 0.3 * X.shape[1]
    np.testing.assert_allclose((merged.X @ merged.X.T).toarray(), (X @ X.T).toarray(), atol=1e-12)
    ours = theirs = None
    for C in (1.0, 10.0, 30.0):
        theirs = _exact(theirs, C).fit(X, y)
        ours = logistic.fit_sparse(_exact(ours, C), X, y)
        assert ours.coef_.shape == theirs.coef_.shape and ours.n_features_in_ == X.shape[1]
        np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-7)
        np.testing.assert_allclose(ours.intercept_, theirs.intercept_, atol=1e-7)
    assert not ours.coef_[:, -5:].any()  # columns without a value keep no weight
    assert np.isfinite(ours.coef_).all()


def _exact(old: LogisticRegression | None, C: float) -> LogisticRegression:
    """A warm-starting newton-cg regression at C, solved far past the training tolerance."""
    if old is not None:
        return old.set_params(C=C)
    return LogisticRegression(
        C=C, solver="newton-cg", class_weight="balanced", tol=1e-10, max_iter=1000, warm_start=True
    )


@pytest.mark.parametrize("classes", [2, 3])
@pytest.mark.parametrize("class_weight", [None, "balanced"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_our_newton_cg_reaches_scikit_learns_optimum(classes, class_weight, dtype):
    # newsclf.model.newton keeps scikit-learn's objective and stopping rule (only the products'
    # layout and the line search differ): solved far past the tolerance, the same coefficients
    # and intercepts, cold and warm along the C grid, for one logit (two classes) and several.
    rng = np.random.default_rng(classes)
    X = sp.random(150, 600, density=0.03, random_state=3, format="csr", dtype=dtype)
    X = sp.hstack([X, sp.random(150, 30, density=0.4, random_state=4)], format="csr").astype(dtype)
    y = rng.integers(0, classes, 150)
    y[: classes * 3] = np.repeat(np.arange(classes), 3)  # every class, some rare
    # float32 rows give float32 products (as scikit-learn's own fit on them): a gradient known to
    # about 1e-7, so that fit is solved to 1e-6 and compared with the float64 optimum.
    tol, atol = (1e-10, 1e-6) if dtype == np.float64 else (1e-6, 5e-3)
    ours = theirs = None
    for C in (1.0, 10.0):
        theirs = _exact(theirs, C).set_params(class_weight=class_weight)
        theirs.fit(X.astype(np.float64), y)
        ours = logistic.fit_sparse(
            _exact(ours, C).set_params(class_weight=class_weight, tol=tol), X, y
        )
        np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=atol)
        np.testing.assert_allclose(ours.intercept_, theirs.intercept_, atol=atol)
        assert ours.coef_.shape == (1 if classes == 2 else classes, X.shape[1])
    np.testing.assert_array_equal(ours.classes_, np.arange(classes))
    # at the training tolerance: predictions within the tolerance's reach of scikit-learn's
    loose = LogisticRegression(C=10.0, solver="newton-cg", class_weight=class_weight, tol=1e-4)
    np.testing.assert_allclose(
        logistic.fit_sparse(clone(loose), X, y).predict_proba(X),
        clone(loose).fit(X, y).predict_proba(X),
        atol=2e-2,
    )


def test_our_newton_cg_warns_as_scikit_learn_when_out_of_steps():
    X = sp.random(100, 300, density=0.05, random_state=0, format="csr")
    y = np.arange(100) % 3
    with pytest.warns(ConvergenceWarning, match="newton-cg failed to converge"):
        lr = logistic.fit_sparse(_exact(None, 30.0).set_params(max_iter=1), X, y)
    assert lr.n_iter_[0] == 1


def test_per_target_models_of_a_scheme_over_its_columns_fit_in_their_rows_span(monkeypatch):
    # A scheme too large for the row span still fits each frequent target's model in the span of
    # that target's rows: the same optimum as over every column.
    guide = load_guide(GUIDE)
    rows = make_rows(90, 5)
    docs, y = _docs(rows), [r["labels"]["stance"] for r in rows]
    docs = [dict(d, target="OpenAI" if i < 45 else "Google") for i, d in enumerate(docs)]
    sch = guide.scheme("stance")
    spans: list[object] = []
    real_init = InSpan.__init__

    def counting_init(self, X):
        spans.append(X)
        real_init(self, X)

    monkeypatch.setattr(InSpan, "__init__", counting_init)
    monkeypatch.setattr(classifier, "ROW_SPACE_MAX", 0)
    columns = make_classifier(sch, C=3.0, per_target_min=20).fit(docs, y)
    assert not spans
    monkeypatch.setattr(classifier, "ROW_SPACE_MAX", 60)  # above one target's rows, below all
    in_span = make_classifier(sch, C=3.0, per_target_min=20).fit(docs, y)
    assert in_span.core_[1].keys() == columns.core_[1].keys() == {"OpenAI", "Google"}
    assert spans and all(sp.issparse(X) and X.shape[0] <= 45 for X in spans)
    np.testing.assert_allclose(in_span.predict_proba(docs), columns.predict_proba(docs), atol=1e-2)


@pytest.mark.parametrize("scheme", ["topics", "stance"])
@pytest.mark.parametrize("over_columns", [False, True])
def test_the_final_fit_starts_from_the_inner_models_at_the_chosen_c(
    scheme, over_columns, monkeypatch
):
    # The final fit at the chosen C starts from the inner parts' models at that C (their mean),
    # not cold: fewer solver steps to the same optimum, in the row span (lbfgs) and over the
    # columns (newton-cg).
    if over_columns:
        monkeypatch.setattr(classifier, "ROW_SPACE_MAX", 0)
    guide = load_guide(GUIDE)
    rows = make_rows(90, 5)
    docs, y = _docs(rows), [r["labels"][scheme] for r in rows]
    sch = guide.scheme(scheme)
    warm = make_classifier(sch, per_target_min=20).fit(docs[:70], y[:70])
    monkeypatch.setattr(classifier, "start_core", lambda cores, Y: None)
    cold = make_classifier(sch, per_target_min=20).fit(docs[:70], y[:70])
    assert warm.C_ == cold.C_  # the same inner selection either way

    def steps(clf):
        models = [clf.core_[0]] if scheme == "stance" else clf.models_
        return sum(int(m.n_iter_[0]) for m in models if isinstance(m, LogisticRegression))

    assert 0 < steps(warm) < steps(cold), (steps(warm), steps(cold))
    np.testing.assert_allclose(
        warm.predict_proba(docs[70:]), cold.predict_proba(docs[70:]), atol=1e-2
    )


def test_a_start_leaves_out_models_that_saw_other_classes():
    # An inner part that lacked a class fits fewer outputs: its coefficients are no start.
    X = np.random.default_rng(0).normal(size=(30, 4))
    two = LogisticRegression().fit(X[:20], np.arange(20) % 2)
    three = LogisticRegression().fit(X, np.arange(30) % 3)
    y = np.arange(30) % 3
    assert classifier.start_core([(two, {})], y) == (None, {})
    shared, by_target = classifier.start_core([(three, {"t": object()}), (two, {})], y)
    assert by_target == {} and shared is not three
    np.testing.assert_array_equal(shared.coef_, three.coef_)
    # multi-label: one start per label; a label constant in the part had no model
    first, second = classifier.start_core([[two, 1.0]], np.c_[np.arange(30) % 2, np.ones(30)])
    np.testing.assert_array_equal(first.coef_, two.coef_)
    assert second is None


def test_fits_on_one_matrix_share_its_merge_while_the_matrix_lives(monkeypatch):
    # The C grid's fits on one inner part (and a multi-label scheme's labels) merge its columns
    # once; another matrix gets its own merge, and a freed matrix's merge is dropped.
    built = []
    real_init = logistic.MergedColumns.__init__

    def counting_init(self, X):
        built.append(X.shape)
        real_init(self, X)

    monkeypatch.setattr(logistic.MergedColumns, "__init__", counting_init)
    X = sp.random(80, 400, density=0.04, random_state=0, format="csr")
    y = np.arange(80) % 3
    ours = None
    for C in (1.0, 10.0, 30.0):
        ours = logistic.fit_sparse(_exact(ours, C), X, y)
    assert len(built) == 1
    theirs = _exact(None, 30.0).fit(X, y)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-7)
    other = X.copy()
    logistic.fit_sparse(_exact(None, 1.0), other, y)
    assert len(built) == 2
    del X, other
    gc.collect()
    assert logistic._LastMerge.merged is None


def test_a_fit_finds_each_docs_mentions_once_and_leaves_the_memos_small(monkeypatch):
    # A fit's feature blocks scan every training doc in turn; a memo smaller than the docs would
    # evict each entry before the next block asks. memo_room widens the memos for the fit (each
    # doc's title and text searched once) and narrows them back after it.
    guide = load_guide(GUIDE)
    rows = make_rows(60, 5)
    docs, y = _docs(rows), [r["labels"]["stance"] for r in rows]
    memo = features._stem_mentions
    default = memo.default
    memo.default = 4
    memo.fit_room(0)
    memo.cache.clear()
    searched = []
    real = memo.fn
    monkeypatch.setattr(
        memo, "fn", lambda target, text: searched.append(text) or real(target, text)
    )
    try:
        clf = make_classifier(guide.scheme("stance"), C=3.0).fit(docs, y)
        assert len(searched) == len(set(searched)) <= 2 * len(docs)
        assert memo.maxsize == 4 and len(memo.cache) <= 4
        # without the room, the same fit searches each text again and again
        searched.clear()
        monkeypatch.setattr(classifier, "memo_room", lambda docs: contextlib.nullcontext())
        same = make_classifier(guide.scheme("stance"), C=3.0).fit(docs, y)
        assert len(searched) > 2 * len(set(searched))
        np.testing.assert_allclose(clf.predict_proba(docs), same.predict_proba(docs))
    finally:  # the memo back to its own default room, not the 4 entries set here
        memo.default = default
        memo.fit_room(0)


def test_word_tables_pickle_as_one_string_and_old_model_files_still_load():
    # A model's word dictionaries are pickled as one string each (joblib's Python pickler takes
    # about 10 us a dict entry); unpickled, they give the same features, and a state written the
    # old way (the dicts themselves) loads as before.
    texts = ["Regulators #StopKillerRobots met OpenAI", "#AIsafety now: labelers paid per task"]
    docs = [as_doc(Article(id=str(i), title="", text=t, lang="en")) for i, t in enumerate(texts)]
    tok = DocText().fit(docs)
    words = WordNgrams().fit(tok.transform(docs))
    assert tok.hashtag_words_ is not None and len(words.tokens_) > 5
    hashtags = tok.hashtag_words_.__getstate__()
    assert isinstance(words.__getstate__()["tokens_"], str) and isinstance(hashtags["words"], str)
    tok2, words2 = pickle.loads(pickle.dumps((tok, words)))
    assert words2.tokens_ == words.tokens_ and tok2.hashtag_words_.cost == tok.hashtag_words_.cost
    np.testing.assert_array_equal(
        words2.transform(tok2.transform(docs)).toarray(),
        words.transform(tok.transform(docs)).toarray(),
    )
    old = HashtagWords.__new__(HashtagWords)
    old.__setstate__({"cost": dict(tok.hashtag_words_.cost)})
    assert old.split("stopkillerrobots") == tok.hashtag_words_.split("stopkillerrobots")
    old_words = WordNgrams.__new__(WordNgrams)
    old_words.__setstate__(dict(words.__dict__))
    assert old_words.tokens_ == words.tokens_


def test_memo_rooms_that_overlap_out_of_order_leave_the_default_room():
    # Two fits in two threads of one server can leave their rooms in either order; once none is
    # in force the memos are back at their default size.
    memo = features._stem_mentions
    first, second = features.memo_room(10_000), features.memo_room(50)
    first.__enter__()
    second.__enter__()
    assert memo.maxsize == 2 * 10_000
    first.__exit__(None, None, None)  # the wider one leaves first
    assert memo.maxsize == max(memo.default, 2 * 50)
    second.__exit__(None, None, None)
    assert memo.maxsize == memo.default
