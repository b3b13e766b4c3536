"""Full-text search over articles (FTS5): the index's upkeep and the queries `newsclf.search` makes.

`match` is an FTS5 expression made by `newsclf.search.to_match`; `filters` a
`newsclf.search.Filters`. Triggers (migration 8) keep the index current as articles change;
counts by period read the small tables of migration 10 (search_facets, search_totals,
search_days) instead of the articles.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from newsclf.errors import InputError
from newsclf.store._base import StoreBase
from newsclf.store._schema import fill_facets


class Search(StoreBase):
    """Queries on `articles_fts` joined to the articles, their labels and predictions."""

    # Periods of a day 'YYYY-MM-DD' (the first 10 characters of `published`, as search_facets and
    # search_totals keep it); a month is its first 7.
    _PERIOD = {
        "day": "{day}",
        "month": "substr({day}, 1, 7)",
        "week": "strftime('%Y-W%W', {day})",
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

    # An article's day, outlet and language, and the join that reads them beside the matches: from
    # search_facets (or search_totals) as `f`, a few dozen bytes a row, or, where labels or
    # predictions are asked about too, from `articles` as `a`, a page of text per match.
    _FACETS_JOIN = "CROSS JOIN search_facets f ON f.rid = articles_fts.rowid"
    _ARTICLES_JOIN = "JOIN articles a ON a.rowid = articles_fts.rowid"
    _FACETS = ("f.day", "f.outlet", "f.lang")
    _ARTICLE_FACETS = ("substr(a.published, 1, 10)", "a.outlet", "a.lang")

    def rebuild_search_index(self) -> int:
        """Rebuild the full-text index from the articles; returns how many are indexed.

        After a VACUUM (which may renumber rowids), or to repair the index.
        """
        with self.transaction() as conn:
            conn.execute("INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')")
            fill_facets(conn)  # keyed by rowid too
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
        """A page of articles matching an FTS5 expression, with snippets (matches between \\x02 and
        \\x03).

        `order`: "added" (newest stored first), "date" (newest published first) or "relevance".
        """
        source, cond, args = self._matching(filters, model_id, articles=True)
        columns = (
            "SELECT a.id, a.url, a.title, a.outlet, a.published, a.lang, "
            "snippet(articles_fts, 1, char(2), char(3), '…', 24) AS snippet, "
            "highlight(articles_fts, 0, char(2), char(3)) AS title_marked "
        )
        if order == "added":
            # FTS5 gives the matches newest rowid first and the scan stops after the page, so
            # snippets are made for the page only, in the one evaluation of the query.
            sql = (
                f"{columns}FROM {source} WHERE articles_fts MATCH :match{cond} "
                "ORDER BY articles_fts.rowid DESC "
                "LIMIT :limit OFFSET :offset"
            )
        else:
            # Order every match first and keep a page of rowids; snippets for those only, read
            # in one pass over the page's rowid range: a look-up per rowid would evaluate the
            # query again for each row (for a prefix*, a merge of every word it stands for).
            order_by = self._ORDER[order]
            sql = (
                f"WITH page AS (SELECT articles_fts.rowid AS rid, ROW_NUMBER() OVER (ORDER BY "
                f"{order_by}) AS score FROM {source} WHERE articles_fts MATCH :match{cond} "
                f"ORDER BY {order_by} "
                f"LIMIT :limit OFFSET :offset) {columns}FROM articles_fts {self._ARTICLES_JOIN} "
                "WHERE articles_fts MATCH :match "
                "AND articles_fts.rowid BETWEEN (SELECT MIN(rid) FROM page) AND "
                "(SELECT MAX(rid) FROM page) AND +articles_fts.rowid IN (SELECT rid FROM page) "
                "ORDER BY (SELECT score FROM page WHERE page.rid = articles_fts.rowid)"
            )
        return [
            dict(r)
            for r in self._fts(sql, {**args, "match": match, "limit": limit, "offset": offset})
        ]

    def search_count(self, match: str, filters: Any = None, model_id: str | None = None) -> int:
        """How many articles match."""
        source, cond, args = self._matching(filters, model_id)
        sql = f"SELECT COUNT(*) FROM {source} WHERE articles_fts MATCH :match{cond}"
        return self._fts(sql, {**args, "match": match})[0][0]

    def _matching(
        self, filters: Any, model_id: str | None, articles: bool = False
    ) -> tuple[str, str, dict[str, Any]]:
        # What to join to articles_fts for these filters (and `articles` as `a` when the caller
        # reads it), the conditions (" AND ..."), their arguments. Dates, outlets and language
        # are read from search_facets: a look-up in `articles` reads a page of text per match.
        facets = self._on_facets(filters)
        where, args = self._search_where(filters, model_id, facets=facets)
        source = "articles_fts"
        if facets and where:
            source += " " + self._FACETS_JOIN
        if articles or (where and not facets):
            source += " " + self._ARTICLES_JOIN
        return source, "".join(" AND " + w for w in where), args

    def search_ids(self, match: str, filters: Any = None, model_id: str | None = None) -> list[str]:
        """Ids of every article matching (the population a query defines), in id order."""
        where, args = self._search_where(filters, model_id)
        sql = (
            f"SELECT a.id FROM articles_fts {self._ARTICLES_JOIN} WHERE articles_fts MATCH :match"
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
        facets = self._on_facets(filters)
        where, args = self._search_where(filters, model_id, facets=facets)
        cond = "".join(" AND " + w for w in where)
        day, outlet, _ = self._FACETS if facets else self._ARTICLE_FACETS
        key = self._PERIOD[period].format(day=day)
        group = f"COALESCE({key}, 'undated')" + (f", COALESCE({outlet}, '')" if by_outlet else "")
        hits_sql = (
            f"SELECT {group}, COUNT(*) FROM articles_fts "
            f"{self._FACETS_JOIN if facets else self._ARTICLES_JOIN} "
            f"WHERE articles_fts MATCH :match{cond} GROUP BY {group}"
        )
        if facets:  # the small tables: no page of an article's text read per match
            totals_sql = (
                f"SELECT {group}, SUM(f.n) FROM search_totals f WHERE 1{cond} "
                f"GROUP BY {group} HAVING SUM(f.n) > 0"
            )
        else:
            totals_sql = (
                f"SELECT {group}, COUNT(*) FROM articles a"
                + (" WHERE " + " AND ".join(where) if where else "")
                + f" GROUP BY {group}"
            )
        cols = ["period", "outlet"] if by_outlet else ["period"]
        if facets and not by_outlet:
            found = self._matches_by_period(match, period, cond, args)
        else:
            found = {tuple(r[:-1]): r[-1] for r in self._fts(hits_sql, {**args, "match": match})}
        out = [
            dict(zip(cols, r[:-1]), matching=found.get(tuple(r[:-1]), 0), total=r[-1])
            for r in self.conn.execute(totals_sql, args)
        ]
        return sorted(
            out, key=lambda d: (d["period"] == "undated", d["period"], d.get("outlet", ""))
        )

    def _matches_by_period(
        self, match: str, period: str, cond: str, args: dict[str, Any]
    ) -> dict[tuple[str], int]:
        # The matches' day numbers in one string, counted by numpy: a GROUP BY sorts every match
        # first, which at a million articles cost 2-4 times the rest of the query.
        import numpy as np

        codes, n = self._fts(
            f"SELECT group_concat(f.dcode), COUNT(*) FROM articles_fts {self._FACETS_JOIN} "
            f"WHERE articles_fts MATCH :match{cond}",
            {**args, "match": match},
        )[0]
        days = np.fromstring(codes, dtype=np.int64, sep=",") if codes else np.zeros(0, np.int64)
        per_day = np.bincount(days)
        found: dict[tuple[str], int] = {}
        if n > len(days):  # no date: group_concat leaves out the NULLs
            found[("undated",)] = n - len(days)
        key = self._PERIOD[period].format(day="day")
        for code, name in self.conn.execute(
            f"SELECT code, COALESCE({key}, 'undated') FROM search_days WHERE code < ?",
            (len(per_day),),
        ):
            if per_day[code]:
                found[(name,)] = found.get((name,), 0) + int(per_day[code])
        return found

    @staticmethod
    def _on_facets(filters: Any) -> bool:
        # Dates, outlets and language are in search_facets; labels and predictions need `articles`.
        return filters is None or not (filters.label or filters.predicted)

    def _search_where(
        self, filters: Any, model_id: str | None, facets: bool = False
    ) -> tuple[list[str], dict[str, Any]]:
        # facets: dates, outlets and language read from search_facets (or search_totals) as `f`.
        where, args = [], {}
        if filters is None:
            return where, args
        day, outlet, lang = self._FACETS if facets else self._ARTICLE_FACETS
        if filters.since:
            where.append(f"{day} >= :since")
            args["since"] = filters.since[:10]
        if filters.until:
            where.append(f"{day} <= :until")
            args["until"] = filters.until[:10]
        if filters.outlets:
            names = {f"outlet{i}": o.strip().lower() for i, o in enumerate(filters.outlets)}
            where.append(f"lower({outlet}) IN ({', '.join(':' + k for k in names)})")
            args.update(names)
        if filters.lang:
            where.append(f"{lang} = :lang")
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

    def _fts(self, sql: str, args: dict[str, Any]) -> list[sqlite3.Row]:
        try:
            return self.conn.execute(sql, args).fetchall()
        except sqlite3.OperationalError as exc:
            if "fts5" in str(exc) or "MATCH" in str(exc):
                raise InputError(
                    f"the search query is not valid: {exc} (see newsclf search --help)"
                ) from None
            raise
