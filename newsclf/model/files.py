"""A model directory's layout: its file names, the pickle format, and the digests meta.json records.

Apart from training, so loading a model (predict.py) does not import the training stack.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

MODEL_FILE = "model.joblib"
META_FILE = "meta.json"
METRICS_FILE = "metrics.json"
CARD_FILE = "card.md"
GUIDE_FILE = "guide.yaml"
# The layout of the pickled classifiers; bumped when it changes, so an older model is refused on
# load with a clear message instead of failing mid-classify. 2: inner-CV selection and calibration.
# 3: the word block learns hashtag splits at fit time.
MODEL_FORMAT = 3

MODEL_FILES = (
    MODEL_FILE,
    GUIDE_FILE,
    METRICS_FILE,
    CARD_FILE,
)  # each one's digest is in meta.json's "files"


def file_digest(path: Path) -> str:
    """SHA-256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()
