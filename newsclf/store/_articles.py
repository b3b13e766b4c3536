"""Articles: storing and reading them, their outlets' spellings, duplicate groups."""

from __future__ import annotations

import json
import sqlite3
from typing import Any, Iterable, Iterator

from newsclf.article import ARTICLE_FIELDS, Article
from newsclf.store._base import StoreBase, now_iso


class Articles(StoreBase):
    """The `articles` table (its full-text index is kept current by triggers: `_search.py`)."""

    # outlet_key -> the spelling the store already has (see upsert_article); filled on first use.
    _outlets: dict[str, str] | None = None

    def add_article(self, article: Article) -> str:
        """Insert or update one article; returns 'new', 'updated' or 'unchanged'."""
        with self.transaction():
            return self.upsert_article(article)

    def add_articles(self, articles: Iterable[Article]) -> dict[str, int]:
        """Insert or update many articles in one transaction; returns counts by outcome."""
        return self._upsert_all(articles, self.upsert_article)

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

    def has_article(self, article_id: str) -> bool:
        """Whether an article with this id is stored."""
        return (
            self.conn.execute("SELECT 1 FROM articles WHERE id = ?", (article_id,)).fetchone()
            is not None
        )

    def article_id_for_url(self, *urls: str) -> str | None:
        """The id of a stored article fetched from, or canonically at, any of these URLs."""
        for url in urls:
            row = self.conn.execute(
                "SELECT id FROM articles WHERE canonical_url = ? OR url = ? LIMIT 1", (url, url)
            ).fetchone()
            if row:
                return row[0]
        return None

    def find_by_hash(self, digest: str) -> list[str]:
        """Ids of articles with this content hash (exact duplicates)."""
        return [
            r[0]
            for r in self.conn.execute("SELECT id FROM articles WHERE content_hash = ?", (digest,))
        ]

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

    def outlets(self) -> list[str]:
        """The stored outlets' names, sorted."""
        return self.outlet_names()

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
