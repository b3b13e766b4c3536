"""The SQLite store: articles, annotations, predictions, models and feed state; the only module that writes SQL."""

from __future__ import annotations

import json
import os
import sqlite3
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

# Forward migrations: the store's schema version is the number of scripts applied (PRAGMA user_version).
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
    # 6: which sample a coder's label belongs to ('estimation', 'reliability', 'active', 'seed',
    # 'uncertain', 'other'; NULL when unknown), so reports can tell the random estimation sample
    # (the only labels fit to correct a model's shares with) from picks. Labels already coded on
    # the page take their assignment's queue kind.
    """
    ALTER TABLE annotations ADD COLUMN sample TEXT;
    UPDATE annotations SET sample = (SELECT a.kind FROM assignments a WHERE a.article_id = annotations.article_id
                                     AND a.labeler = annotations.labeler)
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)


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
    sample: str | None = None  # the sample the article was drawn in: 'estimation', 'reliability', 'active', ...


class Store:
    """A newsclf SQLite database in WAL mode; every write runs in one transaction."""

    def __init__(self, path: str | os.PathLike[str] | None = None):
        self.path = str(path or default_db_path())
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
            raise NewsclfError(f"{self.path} has schema version {version}, newer than this newsclf knows "
                               f"({SCHEMA_VERSION}); upgrade newsclf")
        for number in range(version, SCHEMA_VERSION):
            with self.transaction() as conn:
                for statement in _split_sql(MIGRATIONS[number]):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {number + 1}")

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
        """Insert or update one article inside the caller's transaction."""
        old = self.get_article(article.id)
        values = _article_values(article)
        if old is None:
            self.conn.execute(
                f"INSERT INTO articles ({', '.join(ARTICLE_FIELDS)}, added_at) "
                f"VALUES ({', '.join('?' * len(ARTICLE_FIELDS))}, ?)", (*values, now_iso()))
            return "new"
        if _same_content(old, article):
            return "unchanged"
        assignments = ", ".join(f"{name} = ?" for name in ARTICLE_FIELDS[1:])
        self.conn.execute(f"UPDATE articles SET {assignments} WHERE id = ?", (*values[1:], article.id))
        return "updated"

    def get_article(self, article_id: str) -> Article | None:
        """The article with this id, or None."""
        row = self.conn.execute(f"SELECT {', '.join(ARTICLE_FIELDS)} FROM articles WHERE id = ?",
                                (article_id,)).fetchone()
        return _row_to_article(row) if row else None

    def iter_articles(self, ids: Iterable[str] | None = None) -> Iterator[Article]:
        """All articles (or those with the given ids), oldest published first."""
        if ids is None:
            cursor = self.conn.execute(f"SELECT {', '.join(ARTICLE_FIELDS)} FROM articles "
                                       "ORDER BY published IS NULL, published, id")
            for row in cursor:
                yield _row_to_article(row)
        else:
            for article_id in ids:
                article = self.get_article(article_id)
                if article is not None:
                    yield article

    def article_ids(self) -> list[str]:
        """Every article's id, in the order `iter_articles` gives (oldest published first)."""
        return [r[0] for r in self.conn.execute("SELECT id FROM articles ORDER BY published IS NULL, published, id")]

    def count_articles(self) -> int:
        """How many articles the store holds."""
        return self.conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0]

    def find_by_hash(self, digest: str) -> list[str]:
        """Ids of articles with this content hash (exact duplicates)."""
        return [r[0] for r in self.conn.execute("SELECT id FROM articles WHERE content_hash = ?", (digest,))]

    # --- annotations --------------------------------------------------------------------------

    def add_annotations(self, annotations: Iterable[Annotation]) -> dict[str, int]:
        """Insert or replace coders' labels in one transaction; a repeat of the same labels changes nothing."""
        counts = {"new": 0, "updated": 0, "unchanged": 0}
        with self.transaction():
            for ann in annotations:
                counts[self.upsert_annotation(ann)] += 1
        return counts

    def upsert_annotation(self, ann: Annotation) -> str:
        """Insert or update one annotation inside the caller's transaction."""
        if self.conn.execute("SELECT 1 FROM articles WHERE id = ?", (ann.article_id,)).fetchone() is None:
            raise InputError(f"annotation for unknown article {ann.article_id!r}; import the article first")
        labels = json.dumps(sorted(ann.labels), ensure_ascii=False)
        row = self.conn.execute(
            "SELECT labels, gold, sample FROM annotations WHERE article_id = ? AND scheme = ? AND target = ? "
            "AND labeler = ?", (ann.article_id, ann.scheme, ann.target, ann.labeler)).fetchone()
        if row is not None and row["labels"] == labels and bool(row["gold"]) == ann.gold \
                and row["sample"] == ann.sample:
            return "unchanged"
        self.conn.execute(
            "INSERT INTO annotations (article_id, scheme, target, labels, labeler, seconds, created_at, "
            "guide_version, gold, sample) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (article_id, scheme, target, labeler) DO UPDATE SET labels = excluded.labels, "
            "seconds = excluded.seconds, created_at = excluded.created_at, "
            "guide_version = excluded.guide_version, gold = excluded.gold, sample = excluded.sample",
            (ann.article_id, ann.scheme, ann.target, labels, ann.labeler, ann.seconds,
             ann.created_at or now_iso(), ann.guide_version, int(ann.gold), ann.sample))
        return "new" if row is None else "updated"

    def annotations(self, scheme: str | None = None, article_id: str | None = None) -> list[Annotation]:
        """Stored annotations, optionally for one scheme and/or article."""
        sql, args = "SELECT * FROM annotations WHERE 1=1", []
        if scheme is not None:
            sql += " AND scheme = ?"
            args.append(scheme)
        if article_id is not None:
            sql += " AND article_id = ?"
            args.append(article_id)
        sql += " ORDER BY article_id, scheme, target, labeler"
        return [Annotation(article_id=r["article_id"], scheme=r["scheme"], labels=tuple(json.loads(r["labels"])),
                           labeler=r["labeler"], target=r["target"], seconds=r["seconds"],
                           created_at=r["created_at"], guide_version=r["guide_version"], gold=bool(r["gold"]),
                           sample=r["sample"])
                for r in self.conn.execute(sql, args)]

    # --- models and predictions ---------------------------------------------------------------

    def add_model(self, model_id: str, path: str, guide_name: str, guide_version: str,
                  metrics: dict[str, Any]) -> None:
        """Record a trained model."""
        with self.transaction():
            self.conn.execute(
                "INSERT INTO models (id, path, guide_name, guide_version, created_at, metrics) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET path = excluded.path, metrics = excluded.metrics",
                (model_id, path, guide_name, guide_version, now_iso(), json.dumps(metrics)))

    def add_predictions(self, rows: Iterable[tuple[str, str, str, str, dict[str, float], list[str]]]) -> int:
        """Store (article_id, model_id, scheme, target, probabilities, labels) rows; replaces older ones."""
        n = 0
        with self.transaction():
            for article_id, model_id, scheme, target, probs, labels in rows:
                self.conn.execute(
                    "INSERT OR REPLACE INTO predictions VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (article_id, model_id, scheme, target, json.dumps(probs), json.dumps(labels), now_iso()))
                n += 1
        return n

    def latest_prediction_model(self) -> str | None:
        """The model whose predictions were stored most recently."""
        row = self.conn.execute("SELECT model_id FROM predictions ORDER BY created_at DESC LIMIT 1").fetchone()
        return row[0] if row else None

    def predictions(self, article_id: str | None = None, model_id: str | None = None) -> list[dict[str, Any]]:
        """Stored predictions as dicts."""
        sql, args = "SELECT * FROM predictions WHERE 1=1", []
        if article_id is not None:
            sql += " AND article_id = ?"
            args.append(article_id)
        if model_id is not None:
            sql += " AND model_id = ?"
            args.append(model_id)
        return [{**dict(r), "probabilities": json.loads(r["probabilities"]), "labels": json.loads(r["labels"])}
                for r in self.conn.execute(sql + " ORDER BY article_id, scheme, target", args)]


    # --- labeling queue -----------------------------------------------------------------------

    def enqueue(self, items: Iterable[tuple[str, str, float, str | None]]) -> int:
        """Add (article_id, kind, priority, reason) to the labeling queue; an item already queued keeps its place."""
        n = 0
        with self.transaction():
            for article_id, kind, priority, reason in items:
                n += self.conn.execute("INSERT OR IGNORE INTO queue VALUES (?, ?, ?, ?, ?)",
                                       (article_id, kind, priority, reason, now_iso())).rowcount
        return n

    def queued(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Queue items, highest priority first."""
        sql, args = "SELECT * FROM queue", []
        if kind is not None:
            sql += " WHERE kind = ?"
            args.append(kind)
        return [dict(r) for r in self.conn.execute(sql + " ORDER BY priority DESC, added_at, article_id", args)]

    # --- duplicates ---------------------------------------------------------------------------

    def set_dup_groups(self, groups: dict[str, str]) -> None:
        """Record each article's duplicate group (the id of the group's earliest article)."""
        with self.transaction():
            self.conn.executemany("UPDATE articles SET dup_group = ? WHERE id = ?",
                                  [(head, article_id) for article_id, head in groups.items()])

    def dup_groups(self) -> dict[str, str]:
        """article id -> duplicate group id, for articles that have been grouped."""
        return {r[0]: r[1] for r in self.conn.execute("SELECT id, dup_group FROM articles WHERE dup_group IS NOT NULL")}

    def article_id_for_url(self, *urls: str) -> str | None:
        """The id of a stored article fetched from, or canonically at, any of these URLs."""
        for url in urls:
            row = self.conn.execute("SELECT id FROM articles WHERE canonical_url = ? OR url = ? LIMIT 1",
                                    (url, url)).fetchone()
            if row:
                return row[0]
        return None

    def has_article(self, article_id: str) -> bool:
        """Whether an article with this id is stored."""
        return self.conn.execute("SELECT 1 FROM articles WHERE id = ?", (article_id,)).fetchone() is not None

    # --- feeds --------------------------------------------------------------------------------

    def feed_state(self, url: str) -> dict[str, Any]:
        """What the last poll of a feed left: etag, last_modified, body_hash, last_polled (empty if never polled)."""
        row = self.conn.execute("SELECT * FROM feeds WHERE url = ?", (url,)).fetchone()
        return dict(row) if row else {}

    def set_feed_state(self, url: str, **state: Any) -> None:
        """Update a feed's poll state (etag, last_modified, body_hash, last_status, last_error)."""
        allowed = {"etag", "last_modified", "body_hash", "last_status", "last_error"}
        unknown = set(state) - allowed
        if unknown:
            raise ValueError(f"unknown feed state fields: {sorted(unknown)}")
        with self.transaction():
            self.conn.execute("INSERT INTO feeds (url) VALUES (?) ON CONFLICT (url) DO NOTHING", (url,))
            sets = ", ".join(f"{k} = ?" for k in state)
            self.conn.execute(f"UPDATE feeds SET last_polled = ?{', ' + sets if sets else ''} WHERE url = ?",
                              (now_iso(), *state.values(), url))

    def feeds(self) -> list[dict[str, Any]]:
        """Every polled feed with its state and how many entries it brought in."""
        return [dict(r) for r in self.conn.execute(
            "SELECT f.*, (SELECT COUNT(*) FROM feed_entries e WHERE e.feed_url = f.url) AS entries "
            "FROM feeds f ORDER BY f.url")]

    def seen_entries(self, feed_url: str) -> set[str]:
        """Keys of the feed's entries already collected."""
        return {r[0] for r in self.conn.execute("SELECT entry_key FROM feed_entries WHERE feed_url = ?", (feed_url,))}

    def mark_entry(self, feed_url: str, entry_key: str, article_id: str | None) -> None:
        """Remember a feed entry as collected (after its article is stored, so a kill never loses one)."""
        with self.transaction():
            self.conn.execute("INSERT INTO feeds (url) VALUES (?) ON CONFLICT (url) DO NOTHING", (feed_url,))
            self.conn.execute("INSERT OR REPLACE INTO feed_entries VALUES (?, ?, ?, ?)",
                              (feed_url, entry_key, article_id, now_iso()))

    # --- labeling page ------------------------------------------------------------------------
    # Assignment statuses: 'leased' (shown to the labeler, held for them until leased_until),
    # 'done' (coded) and 'skipped'. An article counts as taken by a coder while it is done by them,
    # or leased to them and the lease is live; a coder's own (non-gold) annotations count too.

    def add_labeler(self, name: str, role: str, token_hash: str) -> None:
        """Add a labeler, or give an existing one a new role and token."""
        with self.transaction():
            self.conn.execute(
                "INSERT INTO labelers (name, role, token_hash, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (name) "
                "DO UPDATE SET role = excluded.role, token_hash = excluded.token_hash", (name, role, token_hash, now_iso()))

    def labeler_by_token_hash(self, token_hash: str) -> dict[str, Any] | None:
        """The labeler whose login token hashes to this, or None."""
        row = self.conn.execute("SELECT name, role FROM labelers WHERE token_hash = ?", (token_hash,)).fetchone()
        return dict(row) if row else None

    def labelers(self) -> list[dict[str, Any]]:
        """Every labeler's name, role and creation time (never the token hash)."""
        return [dict(r) for r in self.conn.execute("SELECT name, role, created_at FROM labelers ORDER BY name")]

    def label_setting(self, key: str, make: Any) -> str:
        """A stored setting (such as the cookie-signing secret), created with make() the first time."""
        row = self.conn.execute("SELECT value FROM label_settings WHERE key = ?", (key,)).fetchone()
        if row:
            return row[0]
        with self.transaction():
            self.conn.execute("INSERT OR IGNORE INTO label_settings VALUES (?, ?)", (key, make()))
        return self.conn.execute("SELECT value FROM label_settings WHERE key = ?", (key,)).fetchone()[0]

    def add_session(self, id_hash: str, labeler: str, csrf: str, expires: float) -> None:
        """Open a login session (expired ones are dropped on the way)."""
        with self.transaction():
            self.conn.execute("DELETE FROM label_sessions WHERE expires < ?", (time.time(),))
            self.conn.execute("INSERT INTO label_sessions VALUES (?, ?, ?, ?)", (id_hash, labeler, csrf, expires))

    def get_session(self, id_hash: str) -> dict[str, Any] | None:
        """A live session with its labeler's role, or None (unknown or expired)."""
        row = self.conn.execute(
            "SELECT s.labeler AS name, s.csrf, s.expires, l.role FROM label_sessions s JOIN labelers l "
            "ON l.name = s.labeler WHERE s.id_hash = ? AND s.expires > ?", (id_hash, time.time())).fetchone()
        return dict(row) if row else None

    def delete_session(self, id_hash: str) -> None:
        """Log a session out."""
        with self.transaction():
            self.conn.execute("DELETE FROM label_sessions WHERE id_hash = ?", (id_hash,))

    def sample_pool(self) -> list[tuple[str, str]]:
        """(id, outlet) of articles in no labeling queue and without annotations: what samples are drawn from."""
        return [(r[0], r[1] or "") for r in self.conn.execute(
            "SELECT id, outlet FROM articles a WHERE NOT EXISTS (SELECT 1 FROM queue q WHERE q.article_id = a.id) "
            "AND NOT EXISTS (SELECT 1 FROM annotations n WHERE n.article_id = a.id) ORDER BY id")]

    def count_queued(self, kind: str) -> int:
        """How many articles are queued under this kind."""
        return self.conn.execute("SELECT COUNT(*) FROM queue WHERE kind = ?", (kind,)).fetchone()[0]

    def queue_kinds(self, article_id: str) -> set[str]:
        """The queue kinds an article is in (e.g. {'reliability'})."""
        return {r[0] for r in self.conn.execute("SELECT kind FROM queue WHERE article_id = ?", (article_id,))}

    _TAKEN_BY = ("SELECT labeler FROM assignments a WHERE a.article_id = {item} AND a.labeler != :me AND "
                 "(a.status = 'done' OR (a.status = 'leased' AND a.leased_until > :now)) "
                 "UNION SELECT labeler FROM annotations n WHERE n.article_id = {item} AND n.gold = 0 AND n.labeler != :me")

    def _others(self, article_id: str, labeler: str, now: float) -> int:
        sql = f"SELECT COUNT(*) FROM ({self._TAKEN_BY.format(item=':item')})"
        return self.conn.execute(sql, {"item": article_id, "me": labeler, "now": now}).fetchone()[0]

    def lease_next(self, labeler: str, kinds: list[str], overlap: int, lease_seconds: float) -> tuple[str, str] | None:
        """Lease the labeler's next article as (article_id, kind), or None when nothing is left for them.

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
                "ORDER BY leased_at DESC", (labeler,)).fetchall()
            for row in mine:
                need = overlap if row["kind"] == "reliability" else 1
                if self._others(row["article_id"], labeler, now) < need:
                    self.conn.execute("UPDATE assignments SET leased_until = ? WHERE article_id = ? AND labeler = ?",
                                      (now + lease_seconds, row["article_id"], labeler))
                    return row["article_id"], row["kind"]
                # Others filled it while the lease had lapsed: let it go (the labeler never coded it).
                self.conn.execute("DELETE FROM assignments WHERE article_id = ? AND labeler = ?",
                                  (row["article_id"], labeler))
            for kind in kinds:
                need = overlap if kind == "reliability" else 1
                exclude = "" if kind == "reliability" else (
                    "AND NOT EXISTS (SELECT 1 FROM queue r WHERE r.article_id = q.article_id AND r.kind = 'reliability') ")
                row = self.conn.execute(
                    "SELECT q.article_id FROM queue q WHERE q.kind = :kind "
                    "AND NOT EXISTS (SELECT 1 FROM assignments m WHERE m.article_id = q.article_id AND m.labeler = :me) "
                    "AND NOT EXISTS (SELECT 1 FROM annotations o WHERE o.article_id = q.article_id AND o.labeler = :me) "
                    + exclude +
                    f"AND (SELECT COUNT(*) FROM ({self._TAKEN_BY.format(item='q.article_id')})) < :need "
                    "ORDER BY q.priority DESC, q.added_at, q.article_id LIMIT 1",
                    {"kind": kind, "me": labeler, "now": now, "need": need}).fetchone()
                if row:
                    self.conn.execute("INSERT INTO assignments (article_id, labeler, kind, status, leased_at, leased_until) "
                                      "VALUES (?, ?, ?, 'leased', ?, ?)", (row[0], labeler, kind, now, now + lease_seconds))
                    return row[0], kind
        return None

    def finish_item(self, labeler: str, article_id: str, annotations: list[Annotation], seconds: float | None,
                    status: str, overlap: int) -> None:
        """Save a labeler's annotations ('done') or skip ('skipped') for their leased article, in one transaction.

        Raises InputError if the article is not leased to them, or others filled it while their lease lapsed.
        """
        if status not in ("done", "skipped"):
            raise ValueError(status)
        now = time.time()
        with self.transaction():
            row = self.conn.execute("SELECT kind FROM assignments WHERE article_id = ? AND labeler = ? AND status = 'leased'",
                                    (article_id, labeler)).fetchone()
            if row is None:
                raise InputError("this article is not assigned to you (already saved, or never given); reload")
            need = overlap if row["kind"] == "reliability" else 1
            if status == "done" and self._others(article_id, labeler, now) >= need:
                self.conn.execute("DELETE FROM assignments WHERE article_id = ? AND labeler = ?", (article_id, labeler))
                raise InputError("your lease on this article ran out and other coders have coded it; reload for the next")
            for ann in annotations:  # a label coded on the page belongs to the sample its queue kind names
                self.upsert_annotation(replace(ann, sample=ann.sample or row["kind"]))
            seq = self.conn.execute("SELECT COALESCE(MAX(finished_seq), 0) + 1 FROM assignments WHERE labeler = ?",
                                    (labeler,)).fetchone()[0]
            self.conn.execute("UPDATE assignments SET status = ?, finished_seq = ?, seconds = ? "
                              "WHERE article_id = ? AND labeler = ?", (status, seq, seconds, article_id, labeler))

    def undo_last(self, labeler: str, lease_seconds: float) -> str | None:
        """Undo the labeler's last save or skip: delete its annotations and lease the article to them again."""
        now = time.time()
        with self.transaction():
            row = self.conn.execute(
                "SELECT article_id FROM assignments WHERE labeler = ? AND status IN ('done', 'skipped') "
                "ORDER BY finished_seq DESC LIMIT 1", (labeler,)).fetchone()
            if row is None:
                return None
            self.conn.execute("DELETE FROM annotations WHERE article_id = ? AND labeler = ? AND gold = 0",
                              (row[0], labeler))
            self.conn.execute("UPDATE assignments SET status = 'leased', finished_seq = NULL, seconds = NULL, "
                              "leased_at = ?, leased_until = ? WHERE article_id = ? AND labeler = ?",
                              (now, now + lease_seconds, row[0], labeler))
            return row[0]

    def assignments(self, labeler: str | None = None) -> list[dict[str, Any]]:
        """Assignment rows (who was given what, and what came of it)."""
        sql, args = "SELECT * FROM assignments", []
        if labeler is not None:
            sql += " WHERE labeler = ?"
            args.append(labeler)
        return [dict(r) for r in self.conn.execute(sql + " ORDER BY labeler, finished_seq, article_id", args)]

    def finished_count(self, labeler: str) -> int:
        """How many articles the labeler has saved or skipped."""
        return self.conn.execute("SELECT COUNT(*) FROM assignments WHERE labeler = ? AND status != 'leased'",
                                 (labeler,)).fetchone()[0]

    def add_flag(self, article_id: str, labeler: str, note: str, guide_version: str | None) -> None:
        """A note for the guide's author about an article."""
        with self.transaction():
            self.conn.execute("INSERT INTO label_flags (article_id, labeler, note, guide_version, created_at) "
                              "VALUES (?, ?, ?, ?, ?)", (article_id, labeler, note, guide_version, now_iso()))

    def flags(self) -> list[dict[str, Any]]:
        """Every flag, oldest first."""
        return [dict(r) for r in self.conn.execute("SELECT * FROM label_flags ORDER BY id")]

    def disagreements(self, scheme: str, exclude_coder: str | None = None) -> list[tuple[str, str]]:
        """(article_id, target) units of a scheme whose coders disagree and that have no gold label yet.

        Units that `exclude_coder` coded are left out: a reviewer does not settle their own disagreement.
        """
        sql = ("SELECT article_id, target FROM annotations WHERE scheme = :scheme AND gold = 0 "
               "GROUP BY article_id, target HAVING COUNT(DISTINCT labels) > 1 "
               "AND SUM(labeler = :me) = 0 AND NOT EXISTS (SELECT 1 FROM annotations g WHERE g.gold = 1 "
               "AND g.scheme = :scheme AND g.article_id = annotations.article_id AND g.target = annotations.target) "
               "ORDER BY article_id, target")
        return [(r[0], r[1]) for r in self.conn.execute(sql, {"scheme": scheme, "me": exclude_coder or ""})]

    def add_review(self, ann: Annotation, method: str, coder_labels: dict[str, list[str]]) -> None:
        """Store a reviewer's final labels as a gold annotation and record who decided, how, and from what."""
        with self.transaction():
            self.upsert_annotation(ann)
            self.conn.execute(
                "INSERT INTO reviews (article_id, scheme, target, reviewer, labels, method, coder_labels, guide_version, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (ann.article_id, ann.scheme, ann.target, ann.labeler, json.dumps(sorted(ann.labels)), method,
                 json.dumps(coder_labels, sort_keys=True), ann.guide_version, now_iso()))

    def reviews(self) -> list[dict[str, Any]]:
        """Every review decision, oldest first."""
        return [{**dict(r), "labels": json.loads(r["labels"]), "coder_labels": json.loads(r["coder_labels"])}
                for r in self.conn.execute("SELECT * FROM reviews ORDER BY id")]

    # --- batch jobs ---------------------------------------------------------------------------
    # The feed job's export ledger: export_parts lists the part files written into an output folder
    # (out_dir is its absolute path); exported says which part holds each article's predictions.

    def unpredicted_article_ids(self, model_id: str) -> list[str]:
        """Ids of articles with no stored prediction from this model, oldest published first."""
        return [r[0] for r in self.conn.execute(
            "SELECT id FROM articles a WHERE NOT EXISTS (SELECT 1 FROM predictions p WHERE p.article_id = a.id "
            "AND p.model_id = ?) ORDER BY published IS NULL, published, id", (model_id,))]

    def unexported_article_ids(self, out_dir: str, model_id: str) -> list[str]:
        """Ids of articles with predictions from this model that no part file in out_dir holds yet."""
        return [r[0] for r in self.conn.execute(
            "SELECT DISTINCT p.article_id FROM predictions p JOIN articles a ON a.id = p.article_id "
            "WHERE p.model_id = ? AND NOT EXISTS (SELECT 1 FROM exported e WHERE e.out_dir = ? "
            "AND e.model_id = p.model_id AND e.article_id = p.article_id) "
            "ORDER BY a.published IS NULL, a.published, a.id", (model_id, out_dir))]

    def record_export_part(self, out_dir: str, part: str, model_id: str, article_ids: list[str]) -> None:
        """Record, in one transaction, that the part file `part` of out_dir holds these articles."""
        with self.transaction():
            self.conn.execute("INSERT OR REPLACE INTO export_parts VALUES (?, ?, ?, ?, ?)",
                              (out_dir, part, model_id, len(article_ids), now_iso()))
            self.conn.executemany("INSERT OR REPLACE INTO exported VALUES (?, ?, ?, ?)",
                                  [(out_dir, model_id, article_id, part) for article_id in article_ids])

    def export_parts(self, out_dir: str) -> dict[str, dict[str, Any]]:
        """part -> {model_id, rows, created_at} for every part file recorded in out_dir."""
        return {r["part"]: {"model_id": r["model_id"], "rows": r["rows"], "created_at": r["created_at"]}
                for r in self.conn.execute("SELECT * FROM export_parts WHERE out_dir = ? ORDER BY part", (out_dir,))}

    def forget_export_parts(self, out_dir: str, parts: Iterable[str]) -> None:
        """Drop parts (their files are gone) so the articles they held are exported again."""
        with self.transaction():
            for part in parts:
                self.conn.execute("DELETE FROM exported WHERE out_dir = ? AND part = ?", (out_dir, part))
                self.conn.execute("DELETE FROM export_parts WHERE out_dir = ? AND part = ?", (out_dir, part))


def _split_sql(script: str) -> list[str]:
    # executescript() would COMMIT our transaction; run statement by statement instead.
    return [s.strip() for s in script.split(";") if s.strip() and not all(
        line.strip().startswith("--") or not line.strip() for line in s.strip().splitlines())]


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
