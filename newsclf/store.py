"""The SQLite store: articles, annotations, predictions, models and feed state; the only module that
writes SQL."""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator

from newsclf.article import ARTICLE_FIELDS, Article
from newsclf.errors import InputError, NewsclfError

DEFAULT_DB = "newsclf.db"
# The samples a label can belong to (annotations.sample): the page's queue kinds, and 'other'.
SAMPLES = ("estimation", "reliability", "active", "seed", "uncertain", "other")

# Forward migrations: the store's schema version is the number of scripts applied (PRAGMA
# user_version).
# Never edit a released script; append a new one.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE articles (
        id TEXT PRIMARY KEY,
        url TEXT,
        canonical_url TEXT,
        outlet TEXT,
        title TEXT,
        authors TEXT NOT NULL DEFAULT '[]',
        published TEXT,
        lang TEXT,
        text TEXT NOT NULL,
        pages INTEGER NOT NULL DEFAULT 1,
        fetched_at TEXT,
        content_hash TEXT NOT NULL,
        metadata TEXT NOT NULL DEFAULT '{}',
        added_at TEXT NOT NULL
    );
    CREATE INDEX articles_canonical_url ON articles(canonical_url);
    CREATE INDEX articles_content_hash ON articles(content_hash);
    CREATE INDEX articles_outlet_published ON articles(outlet, published);

    -- One coder's labels for one article, scheme and stance target ('' when the scheme has none).
    CREATE TABLE annotations (
        id INTEGER PRIMARY KEY,
        article_id TEXT NOT NULL REFERENCES articles(id),
        scheme TEXT NOT NULL,
        target TEXT NOT NULL DEFAULT '',
        labels TEXT NOT NULL,
        labeler TEXT NOT NULL,
        seconds REAL,
        created_at TEXT NOT NULL,
        guide_version TEXT,
        gold INTEGER NOT NULL DEFAULT 0,
        UNIQUE (article_id, scheme, target, labeler)
    );
    CREATE INDEX annotations_scheme ON annotations(scheme, article_id);

    CREATE TABLE models (
        id TEXT PRIMARY KEY,
        path TEXT NOT NULL,
        guide_name TEXT NOT NULL,
        guide_version TEXT NOT NULL,
        created_at TEXT NOT NULL,
        metrics TEXT NOT NULL DEFAULT '{}'
    );

    CREATE TABLE predictions (
        article_id TEXT NOT NULL REFERENCES articles(id),
        model_id TEXT NOT NULL,
        scheme TEXT NOT NULL,
        target TEXT NOT NULL DEFAULT '',
        probabilities TEXT NOT NULL,
        labels TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (article_id, model_id, scheme, target)
    );

    CREATE TABLE feeds (
        url TEXT PRIMARY KEY,
        etag TEXT,
        last_modified TEXT,
        body_hash TEXT,
        last_polled TEXT,
        last_status INTEGER,
        last_error TEXT
    );
    CREATE TABLE feed_entries (
        feed_url TEXT NOT NULL REFERENCES feeds(url),
        entry_key TEXT NOT NULL,
        article_id TEXT,
        seen_at TEXT NOT NULL,
        PRIMARY KEY (feed_url, entry_key)
    );
    """,
    # 2: near-duplicate groups (syndicated copies), so reports count stories, not copies.
    """
    ALTER TABLE articles ADD COLUMN dup_group TEXT;
    CREATE INDEX articles_dup_group ON articles(dup_group);
    CREATE INDEX articles_url ON articles(url);
    """,
    # 3: the labeling queue. Kinds are kept apart because they serve different ends: 'reliability'
    # (coded blind by several coders), 'estimation' (a random sample for unbiased shares),
    # 'active' (model picks), 'uncertain' (predictions the model abstained on).
    """
    CREATE TABLE queue (
        article_id TEXT NOT NULL REFERENCES articles(id),
        kind TEXT NOT NULL,
        priority REAL NOT NULL DEFAULT 0,
        reason TEXT,
        added_at TEXT NOT NULL,
        PRIMARY KEY (article_id, kind)
    );
    CREATE INDEX queue_kind_priority ON queue(kind, priority DESC);
    """,
    # 4: the labeling page. Labelers log in with a token (only its SHA-256 is kept); sessions are
    # server-side; an assignment is one labeler's lease on, and then outcome of, one article
    # (so no labeler sees an article twice); flags are notes for the guide's author; reviews keep
    # who decided each gold label and from which coders' labels.
    """
    CREATE TABLE labelers (
        name TEXT PRIMARY KEY,
        role TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL
    );
    CREATE TABLE label_sessions (
        id_hash TEXT PRIMARY KEY,
        labeler TEXT NOT NULL REFERENCES labelers(name),
        csrf TEXT NOT NULL,
        expires REAL NOT NULL
    );
    CREATE TABLE label_settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE assignments (
        article_id TEXT NOT NULL REFERENCES articles(id),
        labeler TEXT NOT NULL,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        leased_at REAL NOT NULL,
        leased_until REAL NOT NULL,
        finished_seq INTEGER,
        seconds REAL,
        PRIMARY KEY (article_id, labeler)
    );
    CREATE INDEX assignments_labeler ON assignments(labeler, status, finished_seq);
    CREATE TABLE label_flags (
        id INTEGER PRIMARY KEY,
        article_id TEXT NOT NULL REFERENCES articles(id),
        labeler TEXT NOT NULL,
        note TEXT NOT NULL,
        guide_version TEXT,
        created_at TEXT NOT NULL
    );
    CREATE TABLE reviews (
        id INTEGER PRIMARY KEY,
        article_id TEXT NOT NULL REFERENCES articles(id),
        scheme TEXT NOT NULL,
        target TEXT NOT NULL DEFAULT '',
        reviewer TEXT NOT NULL,
        labels TEXT NOT NULL,
        method TEXT NOT NULL,
        coder_labels TEXT NOT NULL,
        guide_version TEXT,
        created_at TEXT NOT NULL
    );
    CREATE INDEX reviews_item ON reviews(article_id, scheme, target)
    """,
    # 5: the feed job's export ledger (`newsclf run --out DIR`): every part file it wrote into an
    # output folder, and which article's predictions (by which model) each part holds, so a rerun
    # after a kill exports each article once. Reconciled against the folder at every run's start.
    """
    CREATE TABLE export_parts (
        out_dir TEXT NOT NULL,
        part TEXT NOT NULL,
        model_id TEXT NOT NULL,
        rows INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (out_dir, part)
    );
    CREATE TABLE exported (
        out_dir TEXT NOT NULL,
        model_id TEXT NOT NULL,
        article_id TEXT NOT NULL,
        part TEXT NOT NULL,
        PRIMARY KEY (out_dir, model_id, article_id)
    );
    CREATE INDEX exported_part ON exported(out_dir, part)
    """,
    # 6: the labeling page's comfort: an undone item keeps its labels as a draft (the page ticks
    # them again), and each finished item its time (progress: "coded today").
    """
    ALTER TABLE assignments ADD COLUMN draft TEXT;
    ALTER TABLE assignments ADD COLUMN finished_at REAL
    """,
    # 7: articles a model was run on but did not label, and why (a language the guide does not
    # cover, or the relevance gate closed): counted in summaries and reports, never re-run.
    """
    CREATE TABLE skipped (
        article_id TEXT NOT NULL REFERENCES articles(id),
        model_id TEXT NOT NULL,
        reason TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (article_id, model_id)
    )
    """,
    # 8: full-text search (`newsclf search`, the explore page): FTS5 over title and text, its
    # content read from `articles` by rowid and kept current by triggers. unicode61 folds case and
    # diacritics (Café = cafe) and splits on every non-letter, which serves English and Indonesian;
    # a 3-character prefix index makes `pekerja*` (pekerjaan, pekerjanya) fast (2, 3 and 4 cost 60%
    # more load time and 30% more space for no faster query, bench/search). Filled after creation.
    # VACUUM may renumber rowids of a table without an INTEGER PRIMARY KEY: `newsclf search
    # --reindex`.
    """
    CREATE VIRTUAL TABLE articles_fts USING fts5(title, text, content='articles', \
content_rowid='rowid',
        tokenize='unicode61 remove_diacritics 2', prefix='3');
    CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
        INSERT INTO articles_fts(rowid, title, text) VALUES (new.rowid, new.title, new.text);
    END;
    CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, title, text) VALUES ('delete', old.rowid, \
old.title, old.text);
    END;
    CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, text ON articles BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, title, text) VALUES ('delete', old.rowid, \
old.title, old.text);
        INSERT INTO articles_fts(rowid, title, text) VALUES (new.rowid, new.title, new.text);
    END
    """,
    # 9: which sample a coder's label belongs to ('estimation', 'reliability', 'active', 'seed',
    # 'uncertain', 'other'; NULL when unknown), so reports can tell the random estimation sample
    # (the only labels fit to correct a model's shares with) from picks. Labels already coded on
    # the page take their assignment's queue kind.
    """
    ALTER TABLE annotations ADD COLUMN sample TEXT;
    UPDATE annotations SET sample = (SELECT a.kind FROM assignments a WHERE a.article_id = \
annotations.article_id
                                     AND a.labeler = annotations.labeler)
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)
SEARCH_MIGRATION = (
    8  # the migration that creates the full-text index; existing articles are indexed after it
)


def now_iso() -> str:
    """The current UTC time as ISO 8601 with its offset."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def default_db_path() -> str:
    """The store path from NEWSCLF_DB, else ./newsclf.db."""
    return os.environ.get("NEWSCLF_DB") or DEFAULT_DB


@dataclass(frozen=True)
class Annotation:
    """One coder's labels for one article under one scheme (and stance target)."""

    article_id: str
    scheme: str
    labels: tuple[str, ...]
    labeler: str
    target: str = ""
    seconds: float | None = None
    created_at: str | None = None
    guide_version: str | None = None
    gold: bool = False
    sample: str | None = (
        None  # the sample the article was drawn in: 'estimation', 'reliability', 'active', ...
    )


class Store:
    """A newsclf SQLite database in WAL mode; every write runs in one transaction."""

    def __init__(self, path: str | os.PathLike[str] | None = None):
        self.path = str(path or default_db_path())
        self._outlets: dict[str, str] | None = (
            None  # outlet_key -> the stored spelling (see upsert_article)
        )
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self.conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self.conn.row_factory = sqlite3.Row
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA foreign_keys=ON")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise NewsclfError(f"{self.path}: not a usable newsclf database ({exc})") from None

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT, rolled back on any error."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    @property
    def schema_version(self) -> int:
        """How many migrations this database has applied."""
        return self.conn.execute("PRAGMA user_version").fetchone()[0]

    def _migrate(self) -> None:
        version = self.schema_version
        if version > SCHEMA_VERSION:
            raise NewsclfError(
                f"{self.path} has schema version {version}, newer than this newsclf knows "
                f"({SCHEMA_VERSION}); upgrade newsclf"
            )
        for number in range(version, SCHEMA_VERSION):
            with self.transaction() as conn:
                for statement in _split_sql(MIGRATIONS[number]):
                    conn.execute(statement)
                if number + 1 == SEARCH_MIGRATION:
                    self._fill_search(conn)
                conn.execute(f"PRAGMA user_version = {number + 1}")

    def _fill_search(self, conn: sqlite3.Connection, chunk: int = 5000) -> None:
        """Index the articles already stored (a store from before the index), with a progress bar
        when many."""
        top = conn.execute("SELECT COALESCE(MAX(rowid), 0) FROM articles").fetchone()[0]
        total = conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
        bar = None
        if total > 20 * chunk:
            from tqdm import tqdm

            bar = tqdm(
                total=total, desc="building the search index", unit="articles", file=sys.stderr
            )
        for start in range(0, top, chunk):
            n = conn.execute(
                "INSERT INTO articles_fts(rowid, title, text) SELECT rowid, title, text FROM"
                " articles WHERE rowid > ? AND rowid <= ?",
                (start, start + chunk),
            ).rowcount
            if bar is not None:
                bar.update(n)
        if bar is not None:
            bar.close()

    def rebuild_search_index(self) -> int:
        """Rebuild the full-text index from the articles (after a VACUUM, or to repair it); returns
        articles indexed."""
        with self.transaction() as conn:
            conn.execute("INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')")
        return self.count_articles()

    # --- articles -----------------------------------------------------------------------------

    def add_article(self, article: Article) -> str:
        """Insert or update one article; returns 'new', 'updated' or 'unchanged'."""
        with self.transaction():
            return self.upsert_article(article)

    def add_articles(self, articles: Iterable[Article]) -> dict[str, int]:
        """Insert or update many articles in one transaction; returns counts by outcome."""
        counts = {"new": 0, "updated": 0, "unchanged": 0}
        with self.transaction():
            for article in articles:
                counts[self.upsert_article(article)] += 1
        return counts

    def upsert_article(self, article: Article) -> str:
        """Insert or update one article inside the caller's transaction.

        Its outlet is stored under the spelling the store already has for that outlet (case, spaces
        and `www.` folded), whichever command brought it, so every table groups one outlet once.
        """
        if article.outlet and (spelling := self._outlet_spelling(article.outlet)) != article.outlet:
            article.metadata.setdefault("outlet_original", article.outlet)
            article.outlet = spelling
        old = self.get_article(article.id)
        values = _article_values(article)
        if old is None:
            self.conn.execute(
                f"INSERT INTO articles ({', '.join(ARTICLE_FIELDS)}, added_at) "
                f"VALUES ({', '.join('?' * len(ARTICLE_FIELDS))}, ?)",
                (*values, now_iso()),
            )
            return "new"
        if _same_content(old, article):
            return "unchanged"
        assignments = ", ".join(f"{name} = ?" for name in ARTICLE_FIELDS[1:])
        self.conn.execute(
            f"UPDATE articles SET {assignments} WHERE id = ?", (*values[1:], article.id)
        )
        return "updated"

    def get_article(self, article_id: str) -> Article | None:
        """The article with this id, or None."""
        row = self.conn.execute(
            f"SELECT {', '.join(ARTICLE_FIELDS)} FROM articles WHERE id = ?", (article_id,)
        ).fetchone()
        return _row_to_article(row) if row else None

    def iter_articles(self, ids: Iterable[str] | None = None) -> Iterator[Article]:
        """All articles (or those with the given ids), oldest published first."""
        if ids is None:
            cursor = self.conn.execute(
                f"SELECT {', '.join(ARTICLE_FIELDS)} FROM articles "
                "ORDER BY published IS NULL, published, id"
            )
            for row in cursor:
                yield _row_to_article(row)
        else:
            for article_id in ids:
                article = self.get_article(article_id)
                if article is not None:
                    yield article

    def article_ids(self) -> list[str]:
        """Every article's id, in the order `iter_articles` gives (oldest published first)."""
        return [
            r[0]
            for r in self.conn.execute(
                "SELECT id FROM articles ORDER BY published IS NULL, published, id"
            )
        ]

    def count_articles(self) -> int:
        """How many articles the store holds."""
        return self.conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0]

    def _outlet_spelling(self, name: str) -> str:
        from newsclf.fields import outlet_key, tidy_outlet

        if self._outlets is None:
            self._outlets = {}
            for stored in self.outlet_names():
                self._outlets.setdefault(outlet_key(stored), stored)
        return self._outlets.setdefault(outlet_key(name), tidy_outlet(name))

    def outlet_names(self) -> list[str]:
        """Every outlet name the store's articles carry, once each."""
        return [
            r[0]
            for r in self.conn.execute(
                "SELECT DISTINCT outlet FROM articles WHERE outlet IS NOT NULL ORDER BY outlet"
            )
        ]

    def find_by_hash(self, digest: str) -> list[str]:
        """Ids of articles with this content hash (exact duplicates)."""
        return [
            r[0]
            for r in self.conn.execute("SELECT id FROM articles WHERE content_hash = ?", (digest,))
        ]

    # --- annotations --------------------------------------------------------------------------

    def add_annotations(self, annotations: Iterable[Annotation]) -> dict[str, int]:
        """Insert or replace coders' labels in one transaction; a repeat of the same labels changes
        nothing."""
        counts = {"new": 0, "updated": 0, "unchanged": 0}
        with self.transaction():
            for ann in annotations:
                counts[self.upsert_annotation(ann)] += 1
        return counts

    def upsert_annotation(self, ann: Annotation) -> str:
        """Insert or update one annotation inside the caller's transaction."""
        if (
            self.conn.execute("SELECT 1 FROM articles WHERE id = ?", (ann.article_id,)).fetchone()
            is None
        ):
            raise InputError(
                f"annotation for unknown article {ann.article_id!r}; import the article first"
            )
        labels = json.dumps(sorted(ann.labels), ensure_ascii=False)
        row = self.conn.execute(
            "SELECT labels, gold, sample FROM annotations WHERE article_id = ? AND scheme = ? AND"
            " target = ? AND labeler = ?",
            (ann.article_id, ann.scheme, ann.target, ann.labeler),
        ).fetchone()
        if (
            row is not None
            and row["labels"] == labels
            and bool(row["gold"]) == ann.gold
            and row["sample"] == ann.sample
        ):
            return "unchanged"
        self.conn.execute(
            "INSERT INTO annotations (article_id, scheme, target, labels, labeler, seconds,"
            " created_at, guide_version, gold, sample) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON"
            " CONFLICT (article_id, scheme, target, labeler) DO UPDATE SET labels ="
            " excluded.labels, seconds = excluded.seconds, created_at = excluded.created_at,"
            " guide_version = excluded.guide_version, gold = excluded.gold, sample ="
            " excluded.sample",
            (
                ann.article_id,
                ann.scheme,
                ann.target,
                labels,
                ann.labeler,
                ann.seconds,
                ann.created_at or now_iso(),
                ann.guide_version,
                int(ann.gold),
                ann.sample,
            ),
        )
        return "new" if row is None else "updated"

    def annotations(
        self, scheme: str | None = None, article_id: str | None = None
    ) -> list[Annotation]:
        """Stored annotations, optionally for one scheme and/or article."""
        sql, args = "SELECT * FROM annotations WHERE 1=1", []
        if scheme is not None:
            sql += " AND scheme = ?"
            args.append(scheme)
        if article_id is not None:
            sql += " AND article_id = ?"
            args.append(article_id)
        sql += " ORDER BY article_id, scheme, target, labeler"
        return [
            Annotation(
                article_id=r["article_id"],
                scheme=r["scheme"],
                labels=tuple(json.loads(r["labels"])),
                labeler=r["labeler"],
                target=r["target"],
                seconds=r["seconds"],
                created_at=r["created_at"],
                guide_version=r["guide_version"],
                gold=bool(r["gold"]),
                sample=r["sample"],
            )
            for r in self.conn.execute(sql, args)
        ]

    # --- models and predictions ---------------------------------------------------------------

    def add_model(
        self, model_id: str, path: str, guide_name: str, guide_version: str, metrics: dict[str, Any]
    ) -> None:
        """Record a trained model."""
        with self.transaction():
            self.conn.execute(
                "INSERT INTO models (id, path, guide_name, guide_version, created_at, metrics)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET path = excluded.path,"
                " metrics = excluded.metrics",
                (model_id, path, guide_name, guide_version, now_iso(), json.dumps(metrics)),
            )

    def add_predictions(
        self, rows: Iterable[tuple[str, str, str, str, dict[str, float], list[str]]]
    ) -> int:
        """Store (article_id, model_id, scheme, target, probabilities, labels) rows; replaces older
        ones."""
        n = 0
        with self.transaction():
            for article_id, model_id, scheme, target, probs, labels in rows:
                self.conn.execute(
                    "INSERT OR REPLACE INTO predictions VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        article_id,
                        model_id,
                        scheme,
                        target,
                        json.dumps(probs),
                        json.dumps(labels),
                        now_iso(),
                    ),
                )
                n += 1
        return n

    def latest_prediction_model(self) -> str | None:
        """The model whose predictions were stored most recently."""
        row = self.conn.execute(
            "SELECT model_id FROM predictions ORDER BY created_at DESC LIMIT 1"
        ).fetchone()
        return row[0] if row else None

    def predictions(
        self, article_id: str | None = None, model_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Stored predictions as dicts."""
        sql, args = "SELECT * FROM predictions WHERE 1=1", []
        if article_id is not None:
            sql += " AND article_id = ?"
            args.append(article_id)
        if model_id is not None:
            sql += " AND model_id = ?"
            args.append(model_id)
        return [
            {
                **dict(r),
                "probabilities": json.loads(r["probabilities"]),
                "labels": json.loads(r["labels"]),
            }
            for r in self.conn.execute(sql + " ORDER BY article_id, scheme, target", args)
        ]

    # --- labeling queue -----------------------------------------------------------------------

    def enqueue(self, items: Iterable[tuple[str, str, float, str | None]]) -> int:
        """Add (article_id, kind, priority, reason) to the labeling queue; an item already queued
        keeps its place.

        An article a coder has already labeled is not queued for one coder more (every kind but the
        reliability sample needs one): it could never be served.
        """
        n = 0
        with self.transaction():
            for article_id, kind, priority, reason in items:
                n += self.conn.execute(
                    "INSERT OR IGNORE INTO queue SELECT ?, ?, ?, ?, ? WHERE ? = 'reliability' OR"
                    " NOT EXISTS (SELECT 1 FROM annotations n WHERE n.article_id = ? AND n.gold"
                    " = 0)",
                    (article_id, kind, priority, reason, now_iso(), kind, article_id),
                ).rowcount
        return n

    def queued(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Queue items, highest priority first."""
        sql, args = "SELECT * FROM queue", []
        if kind is not None:
            sql += " WHERE kind = ?"
            args.append(kind)
        return [
            dict(r)
            for r in self.conn.execute(sql + " ORDER BY priority DESC, added_at, article_id", args)
        ]

    # --- duplicates ---------------------------------------------------------------------------

    def set_dup_groups(self, groups: dict[str, str]) -> None:
        """Record each article's duplicate group (the id of the group's earliest article)."""
        with self.transaction():
            self.conn.executemany(
                "UPDATE articles SET dup_group = ? WHERE id = ?",
                [(head, article_id) for article_id, head in groups.items()],
            )

    def dup_groups(self) -> dict[str, str]:
        """article id -> duplicate group id, for articles that have been grouped."""
        return {
            r[0]: r[1]
            for r in self.conn.execute(
                "SELECT id, dup_group FROM articles WHERE dup_group IS NOT NULL"
            )
        }

    def article_id_for_url(self, *urls: str) -> str | None:
        """The id of a stored article fetched from, or canonically at, any of these URLs."""
        for url in urls:
            row = self.conn.execute(
                "SELECT id FROM articles WHERE canonical_url = ? OR url = ? LIMIT 1", (url, url)
            ).fetchone()
            if row:
                return row[0]
        return None

    def has_article(self, article_id: str) -> bool:
        """Whether an article with this id is stored."""
        return (
            self.conn.execute("SELECT 1 FROM articles WHERE id = ?", (article_id,)).fetchone()
            is not None
        )

    # --- feeds --------------------------------------------------------------------------------

    def feed_state(self, url: str) -> dict[str, Any]:
        """What the last poll of a feed left: etag, last_modified, body_hash, last_polled (empty if
        never polled)."""
        row = self.conn.execute("SELECT * FROM feeds WHERE url = ?", (url,)).fetchone()
        return dict(row) if row else {}

    def set_feed_state(self, url: str, **state: Any) -> None:
        """Update a feed's poll state (etag, last_modified, body_hash, last_status, last_error)."""
        allowed = {"etag", "last_modified", "body_hash", "last_status", "last_error"}
        unknown = set(state) - allowed
        if unknown:
            raise ValueError(f"unknown feed state fields: {sorted(unknown)}")
        with self.transaction():
            self.conn.execute(
                "INSERT INTO feeds (url) VALUES (?) ON CONFLICT (url) DO NOTHING", (url,)
            )
            sets = ", ".join(f"{k} = ?" for k in state)
            self.conn.execute(
                f"UPDATE feeds SET last_polled = ?{', ' + sets if sets else ''} WHERE url = ?",
                (now_iso(), *state.values(), url),
            )

    def feeds(self) -> list[dict[str, Any]]:
        """Every polled feed with its state and how many entries it brought in."""
        return [
            dict(r)
            for r in self.conn.execute(
                "SELECT f.*, (SELECT COUNT(*) FROM feed_entries e WHERE e.feed_url = f.url) AS"
                " entries FROM feeds f ORDER BY f.url"
            )
        ]

    def seen_entries(self, feed_url: str) -> set[str]:
        """Keys of the feed's entries already collected."""
        return {
            r[0]
            for r in self.conn.execute(
                "SELECT entry_key FROM feed_entries WHERE feed_url = ?", (feed_url,)
            )
        }

    def mark_entry(self, feed_url: str, entry_key: str, article_id: str | None) -> None:
        """Remember a feed entry as collected (after its article is stored, so a kill never loses
        one)."""
        with self.transaction():
            self.conn.execute(
                "INSERT INTO feeds (url) VALUES (?) ON CONFLICT (url) DO NOTHING", (feed_url,)
            )
            self.conn.execute(
                "INSERT OR REPLACE INTO feed_entries VALUES (?, ?, ?, ?)",
                (feed_url, entry_key, article_id, now_iso()),
            )

    # --- labeling page ------------------------------------------------------------------------
    # Assignment statuses: 'leased' (shown to the labeler, held for them until leased_until),
    # 'done' (coded) and 'skipped'. An article counts as taken by a coder while it is done by them,
    # or leased to them and the lease is live; a coder's own (non-gold) annotations count too.

    def add_labeler(self, name: str, role: str, token_hash: str) -> None:
        """Add a labeler, or give an existing one a new role and token (which ends their open
        sessions)."""
        with self.transaction():
            self.conn.execute(
                "INSERT INTO labelers (name, role, token_hash, created_at) VALUES (?, ?, ?, ?) ON"
                " CONFLICT (name) DO UPDATE SET role = excluded.role, token_hash ="
                " excluded.token_hash",
                (name, role, token_hash, now_iso()),
            )
            self.conn.execute("DELETE FROM label_sessions WHERE labeler = ?", (name,))

    def revoke_labeler(self, name: str) -> bool:
        """End the labeler's sessions and void their token (`add_labeler` gives a new one); False if
        unknown."""
        with self.transaction():
            # Not a SHA-256 hex digest, so no token can hash to it; unique per labeler.
            found = self.conn.execute(
                "UPDATE labelers SET token_hash = ? WHERE name = ?",
                ("revoked:" + secrets.token_hex(16), name),
            ).rowcount
            self.conn.execute("DELETE FROM label_sessions WHERE labeler = ?", (name,))
        return bool(found)

    def remove_labeler(self, name: str) -> bool:
        """Remove a labeler: their sessions end and their live leases go back to the queue; what
        they coded stays."""
        with self.transaction():
            self.conn.execute("DELETE FROM label_sessions WHERE labeler = ?", (name,))
            self.conn.execute(
                "DELETE FROM assignments WHERE labeler = ? AND status = 'leased'", (name,)
            )
            return bool(self.conn.execute("DELETE FROM labelers WHERE name = ?", (name,)).rowcount)

    def is_leased_to(self, article_id: str, labeler: str) -> bool:
        """Whether the article is leased to the labeler now (shown to them and not yet saved or
        skipped)."""
        return (
            self.conn.execute(
                "SELECT 1 FROM assignments WHERE article_id = ? AND labeler = ? AND status ="
                " 'leased'",
                (article_id, labeler),
            ).fetchone()
            is not None
        )

    def labeler_by_token_hash(self, token_hash: str) -> dict[str, Any] | None:
        """The labeler whose login token hashes to this, or None."""
        row = self.conn.execute(
            "SELECT name, role FROM labelers WHERE token_hash = ?", (token_hash,)
        ).fetchone()
        return dict(row) if row else None

    def labelers(self) -> list[dict[str, Any]]:
        """Every labeler's name, role and creation time (never the token hash)."""
        return [
            dict(r)
            for r in self.conn.execute("SELECT name, role, created_at FROM labelers ORDER BY name")
        ]

    def label_setting(self, key: str, make: Any) -> str:
        """A stored setting (such as the cookie-signing secret), created with make() the first
        time."""
        row = self.conn.execute("SELECT value FROM label_settings WHERE key = ?", (key,)).fetchone()
        if row:
            return row[0]
        with self.transaction():
            self.conn.execute("INSERT OR IGNORE INTO label_settings VALUES (?, ?)", (key, make()))
        return self.conn.execute(
            "SELECT value FROM label_settings WHERE key = ?", (key,)
        ).fetchone()[0]

    def add_session(self, id_hash: str, labeler: str, csrf: str, expires: float) -> None:
        """Open a login session (expired ones are dropped on the way)."""
        with self.transaction():
            self.conn.execute("DELETE FROM label_sessions WHERE expires < ?", (time.time(),))
            self.conn.execute(
                "INSERT INTO label_sessions VALUES (?, ?, ?, ?)", (id_hash, labeler, csrf, expires)
            )

    def get_session(self, id_hash: str) -> dict[str, Any] | None:
        """A live session with its labeler's role, or None (unknown or expired)."""
        row = self.conn.execute(
            "SELECT s.labeler AS name, s.csrf, s.expires, l.role FROM label_sessions s JOIN"
            " labelers l ON l.name = s.labeler WHERE s.id_hash = ? AND s.expires > ?",
            (id_hash, time.time()),
        ).fetchone()
        return dict(row) if row else None

    def delete_session(self, id_hash: str) -> None:
        """Log a session out."""
        with self.transaction():
            self.conn.execute("DELETE FROM label_sessions WHERE id_hash = ?", (id_hash,))

    def sample_pool(self) -> list[tuple[str, str]]:
        """(id, outlet) of articles in no labeling queue and without annotations: what samples are
        drawn from."""
        return [
            (r[0], r[1] or "")
            for r in self.conn.execute(
                "SELECT id, outlet FROM articles a WHERE NOT EXISTS (SELECT 1 FROM queue q WHERE"
                " q.article_id = a.id) AND NOT EXISTS (SELECT 1 FROM annotations n WHERE"
                " n.article_id = a.id) ORDER BY id"
            )
        ]

    def count_queued(self, kind: str) -> int:
        """How many articles are queued under this kind."""
        return self.conn.execute("SELECT COUNT(*) FROM queue WHERE kind = ?", (kind,)).fetchone()[0]

    def queue_kinds(self, article_id: str) -> set[str]:
        """The queue kinds an article is in (e.g. {'reliability'})."""
        return {
            r[0]
            for r in self.conn.execute("SELECT kind FROM queue WHERE article_id = ?", (article_id,))
        }

    _TAKEN_BY = (
        "SELECT labeler FROM assignments a WHERE a.article_id = {item} AND a.labeler != :me AND"
        " (a.status = 'done' OR (a.status = 'leased' AND a.leased_until > :now)) UNION SELECT"
        " labeler FROM annotations n WHERE n.article_id = {item} AND n.gold = 0 AND n.labeler"
        " != :me"
    )

    def _others(self, article_id: str, labeler: str, now: float) -> int:
        sql = f"SELECT COUNT(*) FROM ({self._TAKEN_BY.format(item=':item')})"
        return self.conn.execute(sql, {"item": article_id, "me": labeler, "now": now}).fetchone()[0]

    def lease_next(
        self, labeler: str, kinds: list[str], overlap: int, lease_seconds: float
    ) -> tuple[str, str] | None:
        """Lease the labeler's next article as (article_id, kind), or None when nothing is left for
        them.

        The labeler's own live (or lapsed but still needed) lease comes first, so a reload shows the
        same article. Otherwise the first kind in `kinds` with an article this labeler has never
        been given and that still needs coders: `overlap` for the reliability sample, one for
        every other kind (and an article in the reliability sample is served only as such).
        Runs under BEGIN IMMEDIATE, so two labelers asking at once never exceed the overlap.
        """
        now = time.time()
        with self.transaction():
            mine = self.conn.execute(
                "SELECT article_id, kind FROM assignments WHERE labeler = ? AND status = 'leased' "
                "ORDER BY leased_at DESC",
                (labeler,),
            ).fetchall()
            for row in mine:
                need = overlap if row["kind"] == "reliability" else 1
                if self._others(row["article_id"], labeler, now) < need:
                    self.conn.execute(
                        "UPDATE assignments SET leased_until = ? WHERE article_id = ? AND"
                        " labeler = ?",
                        (now + lease_seconds, row["article_id"], labeler),
                    )
                    return row["article_id"], row["kind"]
                # Others filled it while the lease had lapsed: let it go (the labeler never coded
                # it).
                self.conn.execute(
                    "DELETE FROM assignments WHERE article_id = ? AND labeler = ?",
                    (row["article_id"], labeler),
                )
            for kind in kinds:
                need = overlap if kind == "reliability" else 1
                exclude = (
                    ""
                    if kind == "reliability"
                    else (
                        "AND NOT EXISTS (SELECT 1 FROM queue r WHERE r.article_id = q.article_id"
                        " AND r.kind = 'reliability') "
                    )
                )
                row = self.conn.execute(
                    "SELECT q.article_id FROM queue q WHERE q.kind = :kind AND NOT EXISTS (SELECT 1"
                    " FROM assignments m WHERE m.article_id = q.article_id AND m.labeler = :me) AND"
                    " NOT EXISTS (SELECT 1 FROM annotations o WHERE o.article_id = q.article_id AND"
                    " o.labeler = :me) "
                    + exclude
                    + f"AND (SELECT COUNT(*) FROM ({self._TAKEN_BY.format(item='q.article_id')})) <"
                    " :need ORDER BY q.priority DESC, q.added_at, q.article_id LIMIT 1",
                    {"kind": kind, "me": labeler, "now": now, "need": need},
                ).fetchone()
                if row:
                    self.conn.execute(
                        "INSERT INTO assignments (article_id, labeler, kind, status, leased_at,"
                        " leased_until) VALUES (?, ?, ?, 'leased', ?, ?)",
                        (row[0], labeler, kind, now, now + lease_seconds),
                    )
                    return row[0], kind
        return None

    def finish_item(
        self,
        labeler: str,
        article_id: str,
        annotations: list[Annotation],
        seconds: float | None,
        status: str,
        overlap: int,
    ) -> None:
        """Save a labeler's annotations ('done') or skip ('skipped') for their leased article, in
        one transaction.

        Raises InputError if the article is not leased to them, or others filled it while their
        lease lapsed.
        """
        if status not in ("done", "skipped"):
            raise ValueError(status)
        now = time.time()
        with self.transaction():
            row = self.conn.execute(
                "SELECT kind FROM assignments WHERE article_id = ? AND labeler = ? AND status ="
                " 'leased'",
                (article_id, labeler),
            ).fetchone()
            if row is None:
                raise InputError(
                    "this article is not assigned to you (already saved, or never given); reload"
                )
            need = overlap if row["kind"] == "reliability" else 1
            if status == "done" and self._others(article_id, labeler, now) >= need:
                self.conn.execute(
                    "DELETE FROM assignments WHERE article_id = ? AND labeler = ?",
                    (article_id, labeler),
                )
                raise InputError(
                    "your lease on this article ran out and other coders have coded it; reload for"
                    " the next"
                )
            # a label coded on the page belongs to the sample its queue kind names
            for ann in annotations:
                self.upsert_annotation(replace(ann, sample=ann.sample or row["kind"]))
            seq = self.conn.execute(
                "SELECT COALESCE(MAX(finished_seq), 0) + 1 FROM assignments WHERE labeler = ?",
                (labeler,),
            ).fetchone()[0]
            self.conn.execute(
                "UPDATE assignments SET status = ?, finished_seq = ?, seconds = ?, finished_at = ?,"
                " draft = NULL WHERE article_id = ? AND labeler = ?",
                (status, seq, seconds, now, article_id, labeler),
            )

    def undo_last(self, labeler: str, lease_seconds: float) -> str | None:
        """Undo the labeler's last save or skip: its annotations become the item's draft, and it is
        leased to them again.

        The draft (`draft`) lets the page show the article with the labels it had, ticked.
        """
        now = time.time()
        with self.transaction():
            row = self.conn.execute(
                "SELECT article_id FROM assignments WHERE labeler = ? AND status IN ('done',"
                " 'skipped') ORDER BY finished_seq DESC LIMIT 1",
                (labeler,),
            ).fetchone()
            if row is None:
                return None
            draft = [
                {"scheme": r["scheme"], "target": r["target"], "labels": json.loads(r["labels"])}
                for r in self.conn.execute(
                    "SELECT scheme, target, labels FROM annotations WHERE article_id = ? "
                    "AND labeler = ? AND gold = 0 ORDER BY id",
                    (row[0], labeler),
                )
            ]
            self.conn.execute(
                "DELETE FROM annotations WHERE article_id = ? AND labeler = ? AND gold = 0",
                (row[0], labeler),
            )
            self.conn.execute(
                "UPDATE assignments SET status = 'leased', finished_seq = NULL, seconds = NULL, "
                "finished_at = NULL, draft = ?, leased_at = ?, leased_until = ? "
                "WHERE article_id = ? AND labeler = ?",
                (
                    json.dumps(draft, ensure_ascii=False) if draft else None,
                    now,
                    now + lease_seconds,
                    row[0],
                    labeler,
                ),
            )
            return row[0]

    def draft(self, labeler: str, article_id: str) -> list[dict[str, Any]]:
        """The labels an undone item had ([{scheme, target, labels}]), to show them ticked again; []
        when none."""
        row = self.conn.execute(
            "SELECT draft FROM assignments WHERE article_id = ? AND labeler = ?",
            (article_id, labeler),
        ).fetchone()
        return json.loads(row[0]) if row and row[0] else []

    def progress(self, labeler: str, since: float, overlap: int) -> dict[str, int]:
        """A labeler's progress line: items coded since `since` (epoch seconds) and queued items
        still open to them.

        "Open" counts queued articles this labeler was never given whose coders are not all done
        (reliability articles need `overlap`, others one); leases held by others still count as
        open.
        """
        today = self.conn.execute(
            "SELECT COUNT(*) FROM assignments WHERE labeler = ? AND status = 'done' "
            "AND finished_at >= ?",
            (labeler, since),
        ).fetchone()[0]
        # Counted as queued articles, less those given to this labeler, less those others have
        # finished
        # (each term an index scan; a scan of the queue with a subquery per row cost 30 ms at 17,000
        # items).
        queued = self.conn.execute("SELECT COUNT(DISTINCT article_id) FROM queue").fetchone()[0]
        mine = self.conn.execute(
            "SELECT COUNT(*) FROM assignments a WHERE a.labeler = ? AND EXISTS "
            "(SELECT 1 FROM queue q WHERE q.article_id = a.article_id)",
            (labeler,),
        ).fetchone()[0]
        full = self.conn.execute(
            "SELECT COUNT(*) FROM (SELECT d.article_id FROM assignments d WHERE d.status = 'done'"
            " AND EXISTS (SELECT 1 FROM queue q WHERE q.article_id = d.article_id) AND NOT EXISTS"
            " (SELECT 1 FROM assignments m WHERE m.article_id = d.article_id AND m.labeler = :me)"
            " GROUP BY d.article_id HAVING COUNT(*) >= CASE WHEN EXISTS (SELECT 1 FROM queue r"
            " WHERE r.article_id = d.article_id AND r.kind = 'reliability') THEN :overlap ELSE 1"
            " END)",
            {"me": labeler, "overlap": overlap},
        ).fetchone()[0]
        left = max(0, queued - mine - full)
        return {"today": today, "left": left}

    def empty_reason(self, labeler: str, overlap: int) -> dict[str, int]:
        """Why nothing can be served to a labeler: counts of queued articles by what holds them.

        queued: articles in any queue; held: open articles leased to other labelers right now;
        unreviewed: coded units whose coders disagree and that await a reviewer.
        """
        now = time.time()
        queued = self.conn.execute("SELECT COUNT(DISTINCT article_id) FROM queue").fetchone()[0]
        held = self.conn.execute(
            "SELECT COUNT(DISTINCT a.article_id) FROM assignments a JOIN queue q ON q.article_id ="
            " a.article_id WHERE a.labeler != ? AND a.status = 'leased' AND a.leased_until > ? AND"
            " NOT EXISTS (SELECT 1 FROM assignments m WHERE m.article_id = a.article_id AND"
            " m.labeler = ?)",
            (labeler, now, labeler),
        ).fetchone()[0]
        unreviewed = self.conn.execute(
            "SELECT COUNT(*) FROM (SELECT 1 FROM annotations n WHERE n.gold = 0 GROUP BY"
            " n.article_id, n.scheme, n.target HAVING COUNT(DISTINCT n.labels) > 1 AND NOT EXISTS"
            " (SELECT 1 FROM annotations g WHERE g.gold = 1 AND g.article_id = n.article_id AND"
            " g.scheme = n.scheme AND g.target = n.target))"
        ).fetchone()[0]
        return {"queued": queued, "held": held, "unreviewed": unreviewed}

    def review(self, review_id: int) -> dict[str, Any] | None:
        """One review decision by its id."""
        r = self.conn.execute("SELECT * FROM reviews WHERE id = ?", (review_id,)).fetchone()
        if r is None:
            return None
        return {
            **dict(r),
            "labels": json.loads(r["labels"]),
            "coder_labels": json.loads(r["coder_labels"]),
        }

    def assignments(self, labeler: str | None = None) -> list[dict[str, Any]]:
        """Assignment rows (who was given what, and what came of it)."""
        sql, args = "SELECT * FROM assignments", []
        if labeler is not None:
            sql += " WHERE labeler = ?"
            args.append(labeler)
        return [
            dict(r)
            for r in self.conn.execute(sql + " ORDER BY labeler, finished_seq, article_id", args)
        ]

    def finished_count(self, labeler: str) -> int:
        """How many articles the labeler has saved or skipped."""
        return self.conn.execute(
            "SELECT COUNT(*) FROM assignments WHERE labeler = ? AND status != 'leased'", (labeler,)
        ).fetchone()[0]

    def add_flag(self, article_id: str, labeler: str, note: str, guide_version: str | None) -> None:
        """A note for the guide's author about an article."""
        with self.transaction():
            self.conn.execute(
                "INSERT INTO label_flags (article_id, labeler, note, guide_version, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (article_id, labeler, note, guide_version, now_iso()),
            )

    def flags(self) -> list[dict[str, Any]]:
        """Every flag, oldest first."""
        return [dict(r) for r in self.conn.execute("SELECT * FROM label_flags ORDER BY id")]

    def disagreements(self, scheme: str, exclude_coder: str | None = None) -> list[tuple[str, str]]:
        """(article_id, target) units of a scheme whose coders disagree and that have no gold label
        yet.

        Units that `exclude_coder` coded are left out: a reviewer does not settle their own
        disagreement.
        """
        sql = (
            "SELECT article_id, target FROM annotations WHERE scheme = :scheme AND gold = 0 GROUP"
            " BY article_id, target HAVING COUNT(DISTINCT labels) > 1 AND SUM(labeler = :me) = 0"
            " AND NOT EXISTS (SELECT 1 FROM annotations g WHERE g.gold = 1 AND g.scheme = :scheme"
            " AND g.article_id = annotations.article_id AND g.target = annotations.target) ORDER BY"
            " article_id, target"
        )
        return [
            (r[0], r[1])
            for r in self.conn.execute(sql, {"scheme": scheme, "me": exclude_coder or ""})
        ]

    def add_review(self, ann: Annotation, method: str, coder_labels: dict[str, list[str]]) -> int:
        """Store a reviewer's final labels as a gold annotation and record who decided, how, and
        from what; returns its id."""
        with self.transaction():
            self.upsert_annotation(ann)
            cur = self.conn.execute(
                "INSERT INTO reviews (article_id, scheme, target, reviewer, labels, method,"
                " coder_labels, guide_version, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    ann.article_id,
                    ann.scheme,
                    ann.target,
                    ann.labeler,
                    json.dumps(sorted(ann.labels)),
                    method,
                    json.dumps(coder_labels, sort_keys=True),
                    ann.guide_version,
                    now_iso(),
                ),
            )
            return int(cur.lastrowid)

    def reviews(self) -> list[dict[str, Any]]:
        """Every review decision, oldest first."""
        return [
            {
                **dict(r),
                "labels": json.loads(r["labels"]),
                "coder_labels": json.loads(r["coder_labels"]),
            }
            for r in self.conn.execute("SELECT * FROM reviews ORDER BY id")
        ]

    # --- search -------------------------------------------------------------------------------
    # `match` is an FTS5 expression made by newsclf.search.to_match; `filters` a
    # newsclf.search.Filters.

    _PERIOD = {
        "day": "substr(a.published, 1, 10)",
        "month": "substr(a.published, 1, 7)",
        "week": "strftime('%Y-W%W', substr(a.published, 1, 10))",
    }

    def _search_where(self, filters: Any, model_id: str | None) -> tuple[list[str], dict[str, Any]]:
        where, args = [], {}
        if filters is None:
            return where, args
        if filters.since:
            where.append("substr(a.published, 1, 10) >= :since")
            args["since"] = filters.since[:10]
        if filters.until:
            where.append("substr(a.published, 1, 10) <= :until")
            args["until"] = filters.until[:10]
        if filters.outlets:
            names = {f"outlet{i}": o.strip().lower() for i, o in enumerate(filters.outlets)}
            where.append(f"lower(a.outlet) IN ({', '.join(':' + k for k in names)})")
            args.update(names)
        if filters.lang:
            where.append("a.lang = :lang")
            args["lang"] = filters.lang
        if filters.label:
            # A reviewer's gold label where there is one, else any coder's.
            where.append(
                "EXISTS (SELECT 1 FROM annotations n WHERE n.article_id = a.id AND n.scheme ="
                " :lscheme AND EXISTS (SELECT 1 FROM json_each(n.labels) WHERE value = :llabel) AND"
                " (n.gold = 1 OR NOT EXISTS (SELECT 1 FROM annotations g WHERE g.article_id = a.id"
                " AND g.scheme = n.scheme AND g.target = n.target AND g.gold = 1)))"
            )
            args["lscheme"], args["llabel"] = filters.label
        if filters.predicted:
            scheme, label, threshold = filters.predicted
            args.update(pscheme=scheme, plabel=label, pmodel=model_id or "", pmin=threshold)
            test = (
                "json_extract(p.probabilities, '$.\"' || :plabel || '\"') >= :pmin"
                if threshold is not None
                else "EXISTS (SELECT 1 FROM json_each(p.labels) WHERE value = :plabel)"
            )
            where.append(
                "EXISTS (SELECT 1 FROM predictions p WHERE p.article_id = a.id AND p.model_id ="
                f" :pmodel AND p.scheme = :pscheme AND {test})"
            )
        return where, args

    def outlets(self) -> list[str]:
        """The stored outlets' names, sorted."""
        return [
            r[0]
            for r in self.conn.execute(
                "SELECT DISTINCT outlet FROM articles WHERE outlet IS NOT NULL ORDER BY outlet"
            )
        ]

    def unlabeled_unqueued_ids(self, ids: Iterable[str]) -> list[str]:
        """Of these ids, the articles no coder has labeled and no queue holds (what a new sample may
        draw)."""
        wanted = list(ids)
        out: list[str] = []
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            out += [
                r[0]
                for r in self.conn.execute(
                    f"SELECT id FROM articles a WHERE id IN ({marks}) AND NOT EXISTS (SELECT 1 FROM"
                    " queue q WHERE q.article_id = a.id) AND NOT EXISTS (SELECT 1 FROM annotations"
                    " n WHERE n.article_id = a.id)",
                    chunk,
                )
            ]
        return sorted(out)

    # Result orders. "added" walks the index newest-stored first and stops after a page: the cost
    # does
    # not grow with the number of matches. "date" and "relevance" (bm25, title words count 4x) must
    # look at every match first (bench/search measures what that costs for a frequent word).
    _ORDER = {
        "added": "articles_fts.rowid DESC",
        "date": "a.published DESC, articles_fts.rowid DESC",
        "relevance": "bm25(articles_fts, 4.0, 1.0), articles_fts.rowid DESC",
    }

    def search_articles(
        self,
        match: str,
        filters: Any = None,
        limit: int = 50,
        offset: int = 0,
        model_id: str | None = None,
        order: str = "added",
    ) -> list[dict[str, Any]]:
        """A page of articles matching an FTS5 expression, with snippets (matches between \\x02 and
        \\x03).

        `order`: "added" (newest stored first), "date" (newest published first) or "relevance".
        """
        where, args = self._search_where(filters, model_id)
        # Order first and keep a page of rowids; snippets only for those.
        sql = (
            "WITH page AS (SELECT articles_fts.rowid AS rid, ROW_NUMBER() OVER (ORDER BY"
            f" {self._ORDER[order]}) AS score FROM articles_fts JOIN articles a ON a.rowid ="
            " articles_fts.rowid WHERE articles_fts MATCH :match"
            + "".join(" AND " + w for w in where)
            + f" ORDER BY {self._ORDER[order]} LIMIT :limit OFFSET :offset) SELECT a.id, a.url,"
            " a.title, a.outlet, a.published, a.lang, snippet(articles_fts, 1, char(2), char(3),"
            " '…', 24) AS snippet, highlight(articles_fts, 0, char(2), char(3)) AS title_marked"
            " FROM page JOIN articles_fts ON articles_fts.rowid = page.rid JOIN articles a ON"
            " a.rowid = page.rid WHERE articles_fts MATCH :match ORDER BY page.score"
        )
        return [
            dict(r)
            for r in self._fts(sql, {**args, "match": match, "limit": limit, "offset": offset})
        ]

    def search_count(self, match: str, filters: Any = None, model_id: str | None = None) -> int:
        """How many articles match."""
        where, args = self._search_where(filters, model_id)
        if not where:
            sql = "SELECT COUNT(*) FROM articles_fts WHERE articles_fts MATCH :match"
        else:
            sql = (
                "SELECT COUNT(*) FROM articles_fts JOIN articles a ON a.rowid = articles_fts.rowid "
                "WHERE articles_fts MATCH :match" + "".join(" AND " + w for w in where)
            )
        return self._fts(sql, {**args, "match": match})[0][0]

    def search_ids(self, match: str, filters: Any = None, model_id: str | None = None) -> list[str]:
        """Ids of every article matching (the population a query defines), in id order."""
        where, args = self._search_where(filters, model_id)
        sql = (
            "SELECT a.id FROM articles_fts JOIN articles a ON a.rowid = articles_fts.rowid "
            "WHERE articles_fts MATCH :match"
            + "".join(" AND " + w for w in where)
            + " ORDER BY a.id"
        )
        return [r[0] for r in self._fts(sql, {**args, "match": match})]

    def search_counts(
        self,
        match: str,
        period: str,
        by_outlet: bool = False,
        filters: Any = None,
        model_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """Attention: per period (and outlet), articles matching and all articles (the same
        filters), oldest first."""
        key = self._PERIOD[period]
        group = f"COALESCE({key}, 'undated')" + (", COALESCE(a.outlet, '')" if by_outlet else "")
        cols = "period" + (", outlet" if by_outlet else "")
        where, args = self._search_where(filters, model_id)
        hits = self._fts(
            f"SELECT {group}, COUNT(*) FROM articles_fts JOIN articles a ON a.rowid ="
            " articles_fts.rowid WHERE articles_fts MATCH :match"
            + "".join(" AND " + w for w in where)
            + f" GROUP BY {group}",
            {**args, "match": match},
        )
        totals = self.conn.execute(
            f"SELECT {group}, COUNT(*) FROM articles a"
            + (" WHERE " + " AND ".join(where) if where else "")
            + f" GROUP BY {group}",
            args,
        )
        found = {tuple(r[:-1]): r[-1] for r in hits}
        out = [
            dict(zip(cols.split(", "), r[:-1]), matching=found.get(tuple(r[:-1]), 0), total=r[-1])
            for r in totals
        ]
        return sorted(
            out, key=lambda d: (d["period"] == "undated", d["period"], d.get("outlet", ""))
        )

    def _fts(self, sql: str, args: dict[str, Any]) -> list[sqlite3.Row]:
        try:
            return self.conn.execute(sql, args).fetchall()
        except sqlite3.OperationalError as exc:
            if "fts5" in str(exc) or "MATCH" in str(exc):
                raise InputError(
                    f"the search query is not valid: {exc} (see newsclf search --help)"
                ) from None
            raise

    # --- batch jobs ---------------------------------------------------------------------------
    # The feed job's export ledger: export_parts lists the part files written into an output folder
    # (out_dir is its absolute path); exported says which part holds each article's predictions.

    def unpredicted_article_ids(self, model_id: str) -> list[str]:
        """Ids of articles this model has neither labeled nor skipped, oldest published first."""
        return [
            r[0]
            for r in self.conn.execute(
                "SELECT id FROM articles a WHERE NOT EXISTS (SELECT 1 FROM predictions p WHERE"
                " p.article_id = a.id AND p.model_id = :m) AND NOT EXISTS (SELECT 1 FROM skipped k"
                " WHERE k.article_id = a.id AND k.model_id = :m) ORDER BY published IS NULL,"
                " published, id",
                {"m": model_id},
            )
        ]

    def add_skipped(self, rows: Iterable[tuple[str, str, str]]) -> int:
        """Record (article_id, model_id, reason) for articles a model did not label; a rerun
        replaces."""
        with self.transaction():
            return sum(
                self.conn.execute(
                    "INSERT OR REPLACE INTO skipped VALUES (?, ?, ?, ?)", (a, m, reason, now_iso())
                ).rowcount
                for a, m, reason in rows
            )

    def skipped(self, model_id: str | None = None) -> dict[str, str]:
        """{article_id: reason} of articles the model (the latest, if None given) did not label."""
        sql, args = "SELECT article_id, reason FROM skipped", []
        if model_id is not None:
            sql += " WHERE model_id = ?"
            args.append(model_id)
        return {r[0]: r[1] for r in self.conn.execute(sql, args)}

    def unexported_article_ids(self, out_dir: str, model_id: str) -> list[str]:
        """Ids of articles with predictions from this model that no part file in out_dir holds
        yet."""
        return [
            r[0]
            for r in self.conn.execute(
                "SELECT DISTINCT p.article_id FROM predictions p JOIN articles a ON a.id ="
                " p.article_id WHERE p.model_id = ? AND NOT EXISTS (SELECT 1 FROM exported e WHERE"
                " e.out_dir = ? AND e.model_id = p.model_id AND e.article_id = p.article_id) ORDER"
                " BY a.published IS NULL, a.published, a.id",
                (model_id, out_dir),
            )
        ]

    def record_export_part(
        self, out_dir: str, part: str, model_id: str, article_ids: list[str]
    ) -> None:
        """Record, in one transaction, that the part file `part` of out_dir holds these articles."""
        with self.transaction():
            self.conn.execute(
                "INSERT OR REPLACE INTO export_parts VALUES (?, ?, ?, ?, ?)",
                (out_dir, part, model_id, len(article_ids), now_iso()),
            )
            self.conn.executemany(
                "INSERT OR REPLACE INTO exported VALUES (?, ?, ?, ?)",
                [(out_dir, model_id, article_id, part) for article_id in article_ids],
            )

    def export_parts(self, out_dir: str) -> dict[str, dict[str, Any]]:
        """part -> {model_id, rows, created_at} for every part file recorded in out_dir."""
        return {
            r["part"]: {"model_id": r["model_id"], "rows": r["rows"], "created_at": r["created_at"]}
            for r in self.conn.execute(
                "SELECT * FROM export_parts WHERE out_dir = ? ORDER BY part", (out_dir,)
            )
        }

    def forget_export_parts(self, out_dir: str, parts: Iterable[str]) -> None:
        """Drop parts (their files are gone) so the articles they held are exported again."""
        with self.transaction():
            for part in parts:
                self.conn.execute(
                    "DELETE FROM exported WHERE out_dir = ? AND part = ?", (out_dir, part)
                )
                self.conn.execute(
                    "DELETE FROM export_parts WHERE out_dir = ? AND part = ?", (out_dir, part)
                )


def _split_sql(script: str) -> list[str]:
    # executescript() would COMMIT our transaction; run statement by statement instead. A trigger's
    # body holds ';' too, so pieces are joined until SQLite calls the statement complete.
    out, buf = [], ""
    for piece in script.split(";"):
        buf += piece + ";"
        if sqlite3.complete_statement(buf):
            if not all(
                line.strip().startswith("--") or not line.strip()
                for line in buf.rstrip(";").splitlines()
            ):
                out.append(buf.strip().rstrip(";").strip())
            buf = ""
    if buf.rstrip(";").strip():
        out.append(buf.strip().rstrip(";").strip())
    return out


def _article_values(article: Article) -> tuple[Any, ...]:
    d = article.to_dict()
    d["authors"] = json.dumps(d["authors"], ensure_ascii=False)
    d["metadata"] = json.dumps(d["metadata"], ensure_ascii=False, sort_keys=True)
    return tuple(d[name] for name in ARTICLE_FIELDS)


def _row_to_article(row: sqlite3.Row) -> Article:
    d = dict(row)
    d["authors"] = json.loads(d["authors"])
    d["metadata"] = json.loads(d["metadata"])
    return Article(**d)


def _same_content(a: Article, b: Article) -> bool:
    # fetched_at changes on every fetch; it alone does not make an article new.
    da, db = a.to_dict(), b.to_dict()
    da.pop("fetched_at"), db.pop("fetched_at")
    return da == db
