"""Full-text search over articles (FTS5): the index's upkeep and the queries `newsclf.search` makes.

`match` is an FTS5 expression made by `newsclf.search.to_match`; `filters` a
`newsclf.search.Filters`. Triggers (migration 8) keep the index current as articles change.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from newsclf.errors import InputError
from newsclf.store._base import StoreBase


class Search(StoreBase):
    """Queries on `articles_fts` joined to the articles, their labels and predictions."""

    _PERIOD = {
        "day": "substr(a.published, 1, 10)",
        "month": "substr(a.published, 1, 7)",
        "week": "strftime('%Y-W%W', substr(a.published, 1, 10))",
    }

    # Result orders. "added" walks the index newest-stored first and stops after a page: the cost
    # does not grow with the number of matches. "date" and "relevance" (bm25, title words count
    # 4x) must look at every match first (bench/search measures what that costs for a frequent
    # word).
    _ORDER = {
        "added": "articles_fts.rowid DESC",
        "date": "a.published DESC, articles_fts.rowid DESC",
        "relevance": "bm25(articles_fts, 4.0, 1.0), articles_fts.rowid DESC",
    }

    def rebuild_search_index(self) -> int:
        """Rebuild the full-text index from the articles; returns how many are indexed.

        After a VACUUM (which may renumber rowids), or to repair the index.
        """
        with self.transaction() as conn:
            conn.execute("INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')")
        return self.conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0]

    def search_articles(
        self,
        match: str,
        filters: Any = None,
        limit: int = 50,
        offset: int = 0,
        model_id: str | None = None,
        order: str = "added",
    ) -> list[dict[str, Any]]:
        """A page of articles matching an FTS5 expression, with snippets.

        In snippets and marked titles, matches stand between \\x02 and \\x03.

        `order`: "added" (newest stored first), "date" (newest published first) or "relevance".
        """
        where, args = self._search_where(filters, model_id)
        # Order first and keep a page of rowids; snippets only for those.
        sql = (
            "WITH page AS (SELECT articles_fts.rowid AS rid, ROW_NUMBER() OVER (ORDER BY "
            f"{self._ORDER[order]}) AS score FROM articles_fts "
            "JOIN articles a ON a.rowid = articles_fts.rowid WHERE articles_fts MATCH :match"
            + "".join(" AND " + w for w in where)
            + f" ORDER BY {self._ORDER[order]} LIMIT :limit OFFSET :offset) "
            "SELECT a.id, a.url, a.title, a.outlet, a.published, a.lang, snippet(articles_fts, 1, "
            "char(2), char(3), '…', 24) AS snippet, highlight(articles_fts, 0, char(2), char(3)) "
            "AS title_marked FROM page JOIN articles_fts ON articles_fts.rowid = page.rid "
            "JOIN articles a ON a.rowid = page.rid WHERE articles_fts MATCH :match "
            "ORDER BY page.score"
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
        """Attention: per period (and outlet), articles matching and all articles, oldest first.

        Both counts under the same filters.
        """
        key = self._PERIOD[period]
        group = f"COALESCE({key}, 'undated')" + (", COALESCE(a.outlet, '')" if by_outlet else "")
        cols = "period" + (", outlet" if by_outlet else "")
        where, args = self._search_where(filters, model_id)
        hits = self._fts(
            f"SELECT {group}, COUNT(*) FROM articles_fts JOIN articles a ON a.rowid = "
            "articles_fts.rowid WHERE articles_fts MATCH :match"
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
                "EXISTS (SELECT 1 FROM annotations n WHERE n.article_id = a.id "
                "AND n.scheme = :lscheme AND EXISTS (SELECT 1 FROM json_each(n.labels) "
                "WHERE value = :llabel) AND (n.gold = 1 OR NOT EXISTS (SELECT 1 "
                "FROM annotations g WHERE g.article_id = a.id AND g.scheme = n.scheme "
                "AND g.target = n.target AND g.gold = 1)))"
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
                "EXISTS (SELECT 1 FROM predictions p WHERE p.article_id = a.id "
                f"AND p.model_id = :pmodel AND p.scheme = :pscheme AND {test})"
            )
        return where, args

    def _fts(self, sql: str, args: dict[str, Any]) -> list[sqlite3.Row]:
        try:
            return self.conn.execute(sql, args).fetchall()
        except sqlite3.OperationalError as exc:
            if "fts5" in str(exc) or "MATCH" in str(exc):
                raise InputError(
                    f"the search query is not valid: {exc} (see newsclf search --help)"
                ) from None
            raise
