"""scikit-learn's L2 logistic regression, fitted on dense rows without its per-call overhead.

A scheme's fit runs a few hundred small fits in the span of the training rows (see
newsclf.model.classifier): one target's 130 docs over 130 coordinates take about 17 lbfgs steps
of some 10 microseconds of arithmetic each, and LogisticRegression.fit spends about 0.25 ms per
step and 4 ms per call on input checks, array-API dispatch and label encoding around them.
`fit_dense` minimises the same objective with the same solver and stopping rule
(scipy's L-BFGS-B, `gtol` = the model's tol) and fills in the same fitted attributes, so the
result is a LogisticRegression that predicts, pickles and warm-starts as one fitted by sklearn.
`fit_sparse` does the same for sparse rows with newton-cg, over merged columns (MergedColumns)
and with the solver of newsclf.model.newton.
"""

from __future__ import annotations

import warnings
import weakref
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize
from scipy.special import expit
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from newsclf.model import newton

LBFGS_OPTIONS = {"maxls": 50, "ftol": 64 * np.finfo(float).eps}  # as LogisticRegression's lbfgs


def handles(lr: LogisticRegression, X: Any) -> bool:
    """Whether `fit_dense` fits this model on X: lbfgs, an L2 penalty and a float64 ndarray."""
    return (
        isinstance(X, np.ndarray)
        and X.dtype == np.float64
        and lr.solver == "lbfgs"
        and _plain_l2(lr)
    )


def _plain_l2(lr: LogisticRegression) -> bool:
    """An L2 penalty, an intercept, and no class weights or balanced ones: what our solvers fit."""
    return (
        lr.penalty in ("l2", "deprecated")
        and getattr(lr, "l1_ratio", None) in (None, 0.0)
        and lr.fit_intercept
        and lr.class_weight in (None, "balanced")
    )


def balanced_weights(codes: np.ndarray, k: int) -> np.ndarray:
    """Per-row weights n / (k * count of the row's class), as class_weight="balanced"."""
    counts = np.bincount(codes, minlength=k)
    return (len(codes) / (k * counts))[codes]


# Rows per block of the loss: about 1 MB of X, which stays in cache between the block's forward
# product and its gradient product, so each evaluation reads X from memory once instead of twice
# (1,561 x 2,331: 5.8 -> 3.4 ms; 800 x 1,000: 0.79 -> 0.49 ms).
BLOCK_BYTES = 1 << 20


def _blocks(X: np.ndarray) -> range:
    """Start rows of X's blocks (see BLOCK_BYTES)."""
    step = max(16, BLOCK_BYTES // (8 * max(1, X.shape[1])))
    return range(0, X.shape[0], step)


def _binary(w: np.ndarray, X: np.ndarray, y: np.ndarray, sw: np.ndarray, l2: float) -> Any:
    """Mean weighted binomial log-loss + l2/2 ||coef||^2 and its gradient; w = (coef, bias)."""
    coef = w[:-1]
    grad = np.zeros_like(w)
    loss = 0.0
    blocks = _blocks(X)
    for start in blocks:
        part = slice(start, start + blocks.step)
        Xb = X[part]
        raw = Xb @ coef
        raw += w[-1]
        loss += sw[part] @ (np.logaddexp(0.0, raw) - y[part] * raw)
        g = sw[part] * (expit(raw) - y[part])
        grad[:-1] += g @ Xb
        grad[-1] += g.sum()
    grad[:-1] += l2 * coef
    return loss + 0.5 * l2 * (coef @ coef), grad


def _multinomial(
    w: np.ndarray, X: np.ndarray, codes: np.ndarray, sw: np.ndarray, l2: float, k: int
) -> Any:
    """Mean weighted multinomial log-loss + l2/2 ||coef||^2 and its gradient; w = (coef, bias)
    ravelled, codes = each row's class index."""
    W = w.reshape(k, -1)
    coef, bias = W[:, :-1], W[:, -1]
    grad = np.zeros_like(W)
    loss = 0.0
    blocks = _blocks(X)
    for start in blocks:
        part = slice(start, start + blocks.step)
        Xb, cb, swb = X[part], codes[part], sw[part]
        rows = np.arange(len(cb))
        raw = Xb @ coef.T
        raw += bias
        raw -= raw.max(axis=1, keepdims=True)
        P = np.exp(raw)
        total = P.sum(axis=1)
        loss += swb @ (np.log(total) - raw[rows, cb])
        P *= (swb / total)[:, None]
        P[rows, cb] -= swb  # now the gradient of the loss over the scores
        grad[:, :-1] += P.T @ Xb
        grad[:, -1] += P.sum(axis=0)
    grad[:, :-1] += l2 * coef
    return loss + 0.5 * l2 * np.vdot(coef, coef), grad.ravel()


def _weighted(lr: LogisticRegression, y: np.ndarray) -> tuple[Any, np.ndarray, np.ndarray, float]:
    """(classes, each row's class index, row weights summing to 1, penalty strength) as
    scikit-learn scales them: the weighted loss averaged over the weights, 1 / (C * their sum) on
    the penalty."""
    classes, codes = np.unique(y, return_inverse=True)
    k = len(classes)
    if k < 2:
        raise ValueError(f"a logistic regression needs two classes; the data has {k}")
    sw = balanced_weights(codes, k) if lr.class_weight == "balanced" else np.ones(len(codes))
    return classes, codes, sw / sw.sum(), 1.0 / (lr.C * sw.sum())


def fit_dense(lr: LogisticRegression, X: np.ndarray, y: np.ndarray) -> LogisticRegression:
    """Fit `lr` on dense rows as lr.fit(X, y) would (see `handles`), warm-started from its
    coefficients when lr.warm_start and they fit."""
    classes, codes, sw, l2 = _weighted(lr, y)
    k, d = len(classes), X.shape[1]
    outputs = 1 if k == 2 else k
    w0 = np.zeros((outputs, d + 1))
    old = getattr(lr, "coef_", None)
    if lr.warm_start and old is not None and old.shape == (outputs, d):
        w0[:, :-1], w0[:, -1] = old, lr.intercept_
    if k == 2:
        fun: Any = _binary
        args: tuple[Any, ...] = (X, codes.astype(np.float64), sw, l2)
    else:
        fun, args = _multinomial, (X, codes, sw, l2, k)
    result = minimize(
        fun,
        w0.ravel(),
        args=args,
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": lr.max_iter, "gtol": lr.tol, **LBFGS_OPTIONS},
    )
    if result.status != 0:  # warned as scikit-learn warns it
        warnings.warn(
            f"lbfgs failed to converge after {result.nit} iterations: {result.message}",
            ConvergenceWarning,
            stacklevel=2,
        )
    W = result.x.reshape(outputs, d + 1)
    lr.classes_ = classes
    lr.coef_, lr.intercept_ = np.ascontiguousarray(W[:, :-1]), W[:, -1].copy()
    lr.n_features_in_ = d
    lr.n_iter_ = np.array([result.nit], dtype=np.int32)
    return lr


class MergedColumns:
    """X's columns reduced to a smaller matrix with the same L2-penalised logistic optimum.

    Columns with a value in one row only (most word bigrams and long char n-grams of a short text
    that no other training doc shares) are proportional to that row's unit vector, and so are any
    combination of them: under an L2 penalty k such columns act as one column, their values' norm
    in that row, whose weight t gives each of them t times its value over the norm (the same
    scores, the same penalty). Columns with no value have weight zero. The solver's vector work
    then runs over the shared columns plus one per row, not over every column (NewsMTSC, 5,600
    sentences: 307,000 columns -> 169,000), the shared ones ordered by use.
    """

    def __init__(self, X: sp.csr_matrix):
        n, self.d = X.shape
        stored = X.data != 0  # an explicitly stored zero is no value (it would merge as 0 / 0)
        counts = np.bincount(X.indices[stored], minlength=self.d)
        shared = np.flatnonzero(counts >= 2)
        # The most used columns first: the solver's products then read their weights from a few
        # contiguous cache lines (FNC-1, 3,000 pairs, 9.3 million entries: X @ W 76 -> 46-52 ms,
        # X.T @ V 57 -> 36-43 ms).
        self.shared = shared[np.argsort(-counts[shared], kind="stable")]
        alone = (counts == 1)[X.indices] & stored
        rows = np.repeat(np.arange(n), np.diff(X.indptr))[alone]
        self.cols = X.indices[alone]
        values = X.data[alone].astype(np.float64)
        norms = np.sqrt(np.bincount(rows, weights=values**2, minlength=n))
        owners = np.flatnonzero(norms > 0)
        slot = np.full(n, -1)
        slot[owners] = np.arange(len(owners))
        self.slot = len(self.shared) + slot[rows]  # each lone entry's merged column
        self.unit = values / norms[rows]  # its share of that column's weight
        own = sp.csc_matrix(
            (norms[owners].astype(X.dtype), owners, np.arange(len(owners) + 1)),
            shape=(n, len(owners)),
        )
        # Built by columns, then turned into rows: picking columns of a CSR matrix in use order
        # left each row's entries unsorted, and sorting them cost 3x the rest of the merge
        # (AG News, 3,891 docs: 0.19 -> 0.11 s a merge, the CSC copy included).
        self.columns = sp.hstack([X.tocsc()[:, self.shared], own], format="csc")
        self.X = self.columns.tocsr()  # the merged matrix; `columns` is it as CSC (see newton)

    def to_merged(self, coef: np.ndarray) -> np.ndarray:
        """Weights over X's columns (k x d) as weights over the merged columns."""
        merged = np.zeros((coef.shape[0], self.X.shape[1]))
        merged[:, : len(self.shared)] = coef[:, self.shared]
        for out, row in zip(merged, coef):
            out += np.bincount(
                self.slot, weights=row[self.cols] * self.unit, minlength=self.X.shape[1]
            )
        return merged

    def to_columns(self, coef: np.ndarray) -> np.ndarray:
        """Weights over the merged columns as weights over X's columns (k x d)."""
        full = np.zeros((coef.shape[0], self.d))
        full[:, self.shared] = coef[:, : len(self.shared)]
        full[:, self.cols] = coef[:, self.slot] * self.unit
        return full


class _LastMerge:
    """The MergedColumns of the matrix fitted last, while that matrix lives.

    Fits come in runs on one matrix: the C grid on an inner part's rows, the labels of a
    multi-label scheme. Merging once per run instead of once per fit saves 0.2 s a fit on AG News
    (6,080 docs) and 1.2 s on 5,000 FNC-1 pairs. The entry is dropped when its matrix is freed,
    so it holds no memory past the run.
    """

    source: weakref.ref | None = None
    merged: MergedColumns | None = None

    @classmethod
    def of(cls, X: sp.csr_matrix) -> MergedColumns:
        """X's merge: the kept one if X is the matrix it was made from, else a new one."""
        if cls.source is not None and cls.source() is X and cls.merged is not None:
            return cls.merged
        merged = MergedColumns(sp.csr_matrix(X))
        cls.source, cls.merged = weakref.ref(X, cls._forget), merged
        return merged

    @classmethod
    def _forget(cls, ref: weakref.ref) -> None:
        if cls.source is ref:
            cls.source, cls.merged = None, None


def fit_sparse(lr: LogisticRegression, X: sp.csr_matrix, y: np.ndarray) -> LogisticRegression:
    """lr.fit(X, y) on sparse rows, the solver run over MergedColumns (the same optimum); the
    fitted coefficients are over X's columns, and a warm start reads them as such. X must not
    change in place between fits: its merge is kept for the next fit on it (_LastMerge).

    newton-cg with a plain L2 penalty runs as `newsclf.model.newton` (the same objective and
    stopping rule as scikit-learn's, its products laid out for sparse columns); other settings
    run scikit-learn's own fit.
    """
    merged = _LastMerge.of(X)
    old = getattr(lr, "coef_", None)
    warm = lr.warm_start and old is not None and old.shape[1] == X.shape[1]
    if lr.solver == "newton-cg" and _plain_l2(lr):
        _fit_newton(lr, merged, y, merged.to_merged(old) if warm else None)
    else:
        if warm:
            lr.coef_ = merged.to_merged(old)
        lr.fit(merged.X, y)
    lr.coef_ = merged.to_columns(lr.coef_)
    lr.n_features_in_ = X.shape[1]
    return lr


def _fit_newton(
    lr: LogisticRegression, merged: MergedColumns, y: np.ndarray, start: np.ndarray | None
) -> None:
    """Fit lr over the merged columns with newsclf.model.newton, from `start` (its coefficients
    over the merged columns) and lr's intercept when given."""
    classes, codes, sw, l2 = _weighted(lr, y)
    outputs = 1 if len(classes) == 2 else len(classes)
    W0 = np.zeros((merged.X.shape[1] + 1, outputs))
    if start is not None and start.shape[0] == outputs:
        W0[:-1], W0[-1] = start.T, lr.intercept_
    problem = newton.Problem(merged.X, merged.columns, codes, sw, l2, outputs)
    W, steps = newton.minimize(problem, W0, lr.tol, lr.max_iter)
    lr.classes_ = classes
    lr.coef_, lr.intercept_ = np.ascontiguousarray(W[:-1].T), W[-1].copy()
    lr.n_iter_ = np.array([steps], dtype=np.int32)
