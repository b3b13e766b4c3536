"""The store's tables, as numbered migrations: the one list to append to when the schema grows.

A store's schema version is the number of scripts it has applied (`PRAGMA user_version`);
`StoreBase` applies the missing ones, each in its own transaction, when a store is opened. Never
edit a released script (SQLite keeps its text; a line too long for the width is continued with a
backslash, which keeps the text); append a new one, and if existing rows must be filled after it,
add the step to `AFTER` under the script's number.
"""

from __future__ import annotations

import sqlite3
import sys
from typing import Callable

# Steps of migration 10's triggers, each written once: number a new or changed article's day
# (_ADD_DAY), count an article into its (day, outlet, language) cell (_COUNT_IN) or out of it
# (_COUNT_OUT); an update counts out of the old cell and into the new. Joined into the script they
# give the released text to the byte (SQLite keeps it, see above).
_ADD_DAY = """\
        INSERT OR IGNORE INTO search_days (day) SELECT substr(new.published, 1, 10)
            WHERE new.published IS NOT NULL;"""
_COUNT_IN = """\
        UPDATE search_totals SET n = n + 1 WHERE day IS substr(new.published, 1, 10)
            AND outlet IS new.outlet AND lang IS new.lang;
        INSERT INTO search_totals (day, outlet, lang, n)
            SELECT substr(new.published, 1, 10), new.outlet, new.lang, 1
            WHERE NOT EXISTS (SELECT 1 FROM search_totals WHERE day IS substr(new.published, 1, 10)
                              AND outlet IS new.outlet AND lang IS new.lang);"""
_COUNT_OUT = """\
        UPDATE search_totals SET n = n - 1 WHERE day IS substr(old.published, 1, 10)
            AND outlet IS old.outlet AND lang IS old.lang;
        DELETE FROM search_totals WHERE n <= 0 AND day IS substr(old.published, 1, 10)
            AND outlet IS old.outlet AND lang IS old.lang;"""

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
    # 10: what counts by period read instead of the articles table. search_facets holds each
    # article's day, outlet and language by its rowid: a few dozen bytes a row that stay in the
    # cache, where a look-up in `articles` reads a page of text for every match. search_totals
    # holds how many articles each (day, outlet, language) has, the denominators of the shares,
    # so they are no longer a scan of every article. search_days numbers the days, so the
    # matches' days can be counted as integers without SQLite sorting every match (GROUP BY
    # does). Triggers keep them current; filled after creation, and rebuilt with the full-text
    # index by `newsclf search --reindex`.
    f"""
    CREATE TABLE search_days (code INTEGER PRIMARY KEY, day TEXT NOT NULL UNIQUE);
    CREATE TABLE search_facets (rid INTEGER PRIMARY KEY, day TEXT, outlet TEXT, lang TEXT,
                                dcode INTEGER);
    CREATE TABLE search_totals (day TEXT, outlet TEXT, lang TEXT, n INTEGER NOT NULL);
    CREATE INDEX search_totals_key ON search_totals(day, outlet, lang);
    CREATE TRIGGER search_facets_insert AFTER INSERT ON articles BEGIN
{_ADD_DAY}
        INSERT INTO search_facets (rid, day, outlet, lang, dcode)
            VALUES (new.rowid, substr(new.published, 1, 10), new.outlet, new.lang,
                    (SELECT code FROM search_days WHERE day = substr(new.published, 1, 10)));
{_COUNT_IN}
    END;
    CREATE TRIGGER search_facets_delete AFTER DELETE ON articles BEGIN
        DELETE FROM search_facets WHERE rid = old.rowid;
{_COUNT_OUT}
    END;
    CREATE TRIGGER search_facets_update AFTER UPDATE OF published, outlet, lang ON articles BEGIN
{_ADD_DAY}
        UPDATE search_facets SET day = substr(new.published, 1, 10), outlet = new.outlet,
            lang = new.lang,
            dcode = (SELECT code FROM search_days WHERE day = substr(new.published, 1, 10))
            WHERE rid = new.rowid;
{_COUNT_OUT}
{_COUNT_IN}
    END
    """,
    # 11: results a command can reuse while its inputs are unchanged (label-errors' out-of-fold
    # predictions, one row per scheme): `key` is a hash of the inputs, `value` the result's bytes.
    """
    CREATE TABLE cache (
        name TEXT PRIMARY KEY,
        key TEXT NOT NULL,
        value BLOB NOT NULL,
        created_at TEXT NOT NULL
    )
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)
SEARCH_MIGRATION = 8  # the migration that creates the full-text index
FACETS_MIGRATION = 10  # creates search_facets, search_totals and search_days; filled after it


def _fill_by_rowid(conn: sqlite3.Connection, insert: str, chunk: int, big: int, desc: str) -> None:
    """Run `insert` (its ? ? a rowid range) over every article in ranges of `chunk` rowids, with a
    progress bar once the store holds more than `big` articles."""
    top = conn.execute("SELECT COALESCE(MAX(rowid), 0) FROM articles").fetchone()[0]
    total = conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    bar = None
    if total > big:
        from tqdm import tqdm

        bar = tqdm(total=total, desc=desc, unit="articles", file=sys.stderr)
    for start in range(0, top, chunk):
        n = conn.execute(insert, (start, start + chunk)).rowcount
        if bar is not None:
            bar.update(n)
    if bar is not None:
        bar.close()


def fill_search(conn: sqlite3.Connection, chunk: int = 5000) -> None:
    """Index the articles already stored (a store from before the index); a progress bar if many."""
    _fill_by_rowid(
        conn,
        "INSERT INTO articles_fts(rowid, title, text) SELECT rowid, title, text FROM articles "
        "WHERE rowid > ? AND rowid <= ?",
        chunk,
        20 * chunk,
        "building the search index",
    )


def fill_facets(conn: sqlite3.Connection, chunk: int = 20000) -> None:
    """Fill search_facets, search_totals and search_days from the articles already stored."""
    for table in ("search_facets", "search_totals", "search_days"):
        conn.execute(f"DELETE FROM {table}")
    _fill_by_rowid(
        conn,
        "INSERT INTO search_facets (rid, day, outlet, lang) SELECT rowid, "
        "substr(published, 1, 10), outlet, lang FROM articles WHERE rowid > ? AND rowid <= ?",
        chunk,
        100_000,
        "indexing dates for counts",
    )
    conn.execute(
        "INSERT INTO search_totals (day, outlet, lang, n) SELECT day, outlet, lang, COUNT(*) "
        "FROM search_facets GROUP BY day, outlet, lang"
    )
    conn.execute(
        "INSERT INTO search_days (day) SELECT DISTINCT day FROM search_totals "
        "WHERE day IS NOT NULL ORDER BY day"
    )
    conn.execute(
        "UPDATE search_facets SET dcode = (SELECT code FROM search_days d "
        "WHERE d.day = search_facets.day) WHERE day IS NOT NULL"
    )


# Steps run after a migration, in its transaction, on the rows a store already held.
AFTER: dict[int, Callable[[sqlite3.Connection], None]] = {
    SEARCH_MIGRATION: fill_search,
    FACETS_MIGRATION: fill_facets,
}


def split_sql(script: str) -> list[str]:
    """A migration script's statements, one by one (comment-only pieces dropped).

    executescript() would COMMIT the caller's transaction, so scripts run statement by statement.
    A trigger's body holds ';' too: pieces are joined until SQLite calls the statement complete.
    """
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
