"""The SQLite store: one `Store` over private modules by subject; the only place that writes SQL.

`Store` is one class, so every caller writes `store.add_article(...)` as before, but each
subject's tables and methods live in their own module, as a mixin over `StoreBase` (the
connection and its transactions):

- `_schema.py`       the tables as numbered migrations (append there), and their upkeep steps
- `_base.py`         connecting (WAL), transactions, applying migrations; `now_iso`
- `_articles.py`     articles, outlet spellings, duplicate groups
- `_search.py`       the full-text index (FTS5): its rebuild and the search queries
- `_predictions.py`  models, predictions, articles a model skipped
- `_annotations.py`  coders' labels (`Annotation`), reviews, flags
- `_queue.py`        the labeling queue, leases and assignments (the SQL only: which article is
                     served next is `newsclf.label.queue`'s decision)
- `_labelers.py`     labelers, login sessions, the page's settings
- `_feeds.py`        feed poll state and entries seen
- `_ledger.py`       the feed job's export ledger

Mixins rather than table objects (sqlite-utils' `db["t"]`): a subject spans several tables and
one transaction often spans subjects (saving an item writes its assignment and its annotations),
and every call site keeps its spelling. Import from `newsclf.store` only (its names are in
`__all__`); the modules behind it may move.
"""

from __future__ import annotations

from newsclf.store._annotations import SAMPLES, Annotation
from newsclf.store._articles import Articles
from newsclf.store._base import DEFAULT_DB, default_db_path, now_iso
from newsclf.store._feeds import Feeds
from newsclf.store._labelers import Labelers
from newsclf.store._ledger import ExportLedger
from newsclf.store._predictions import Predictions
from newsclf.store._queue import LabelQueue
from newsclf.store._schema import MIGRATIONS, SCHEMA_VERSION, SEARCH_MIGRATION
from newsclf.store._search import Search

__all__ = [
    "DEFAULT_DB",
    "MIGRATIONS",
    "SAMPLES",
    "SCHEMA_VERSION",
    "SEARCH_MIGRATION",
    "Annotation",
    "Store",
    "default_db_path",
    "now_iso",
]


class Store(Articles, Search, Predictions, LabelQueue, Labelers, Feeds, ExportLedger):
    """A newsclf SQLite database in WAL mode; every write runs in one transaction."""
