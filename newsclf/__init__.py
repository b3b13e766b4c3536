"""newsclf: collect news articles, label them by a written guide, train classifiers, label new
coverage, report."""

from newsclf.article import Article  # noqa: E402
from newsclf.guide import Guide, load_guide  # noqa: E402
from newsclf.store import Store  # noqa: E402
from newsclf.version import __version__


def load_model(path: str):  # type: ignore[no-untyped-def]
    """Load a trained model directory (imported lazily: scikit-learn and spaCy are slow to
    import)."""
    from newsclf.model.predict import load_model as _load

    return _load(path)


def train(*args, **kwargs):  # type: ignore[no-untyped-def]
    """Train a model; see newsclf.model.train.train."""
    from newsclf.model.train import train as _train

    return _train(*args, **kwargs)


__all__ = ["Article", "Guide", "Store", "load_guide", "load_model", "train", "__version__"]
