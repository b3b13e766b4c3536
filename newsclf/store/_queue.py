"""The labeling queue and its assignments: which articles wait in which sample, who holds what.

Assignment statuses: 'leased' (shown to the labeler, held for them until leased_until), 'done'
(coded) and 'skipped'. An article counts as taken by a coder while it is done by them, or leased to
them and the lease is live; a coder's own (non-gold) annotations count too.

Which article a labeler is served next is policy, and lives in `newsclf.label.queue.lease_next`;
here is only the SQL it runs, inside one `BEGIN IMMEDIATE` transaction (the lease methods below
expect the caller's transaction), so two labelers asking at once never exceed the overlap.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from typing import Any, Iterable

from newsclf.errors import InputError
from newsclf.store._annotations import Annotation, Annotations
from newsclf.store._base import now_iso


class LabelQueue(Annotations):
    """The `queue` and `assignments` tables (saving an item writes its annotations too)."""

    def enqueue(self, items: Iterable[tuple[str, str, float, str | None]]) -> int:
        """Add (article_id, kind, priority, reason) to the labeling queue; returns how many.

        An item already queued keeps its place.

        An article a coder has already labeled is not queued for one coder more (every kind but the
        reliability sample needs one): it could never be served.
        """
        n = 0
        with self.transaction():
            for article_id, kind, priority, reason in items:
                n += self.conn.execute(
                    "INSERT OR IGNORE INTO queue SELECT ?, ?, ?, ?, ? WHERE ? = 'reliability' OR "
                    "NOT EXISTS (SELECT 1 FROM annotations n WHERE n.article_id = ? "
                    "AND n.gold = 0)",
                    (article_id, kind, priority, reason, now_iso(), kind, article_id),
                ).rowcount
        return n

    def queued(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Queue items, highest priority first."""
        order = "priority DESC, added_at, article_id"
        return [dict(r) for r in self._select("queue", order, kind=kind)]

    def count_queued(self, kind: str) -> int:
        """How many articles are queued under this kind."""
        return self.conn.execute("SELECT COUNT(*) FROM queue WHERE kind = ?", (kind,)).fetchone()[0]

    def queue_kinds(self, article_id: str) -> set[str]:
        """The queue kinds an article is in (e.g. {'reliability'})."""
        return {
            r[0]
            for r in self.conn.execute("SELECT kind FROM queue WHERE article_id = ?", (article_id,))
        }

    def sample_pool(self) -> list[tuple[str, str]]:
        """(id, outlet) of articles in no queue and without annotations: what samples draw from."""
        return [
            (r[0], r[1] or "")
            for r in self.conn.execute(
                "SELECT id, outlet FROM articles a WHERE NOT EXISTS (SELECT 1 FROM queue q "
                "WHERE q.article_id = a.id) AND NOT EXISTS (SELECT 1 FROM annotations n "
                "WHERE n.article_id = a.id) ORDER BY id"
            )
        ]

    def unlabeled_unqueued_ids(self, ids: Iterable[str]) -> list[str]:
        """Of these ids, those no coder labeled and no queue holds (what a new sample may draw)."""
        wanted = list(ids)
        out: list[str] = []
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            out += [
                r[0]
                for r in self.conn.execute(
                    f"SELECT id FROM articles a WHERE id IN ({marks}) AND NOT EXISTS (SELECT 1 "
                    "FROM queue q WHERE q.article_id = a.id) AND NOT EXISTS (SELECT 1 "
                    "FROM annotations n WHERE n.article_id = a.id)",
                    chunk,
                )
            ]
        return sorted(out)

    # --- leases (inside the caller's transaction) ----------------------------------------------

    _TAKEN_BY = (
        "SELECT labeler FROM assignments a WHERE a.article_id = {item} AND a.labeler != :me "
        "AND (a.status = 'done' OR (a.status = 'leased' AND a.leased_until > :now)) UNION "
        "SELECT labeler FROM annotations n WHERE n.article_id = {item} AND n.gold = 0 "
        "AND n.labeler != :me"
    )

    def coders_besides(self, article_id: str, labeler: str, now: float) -> int:
        """How many coders other than `labeler` have the article (done, live lease, or labels)."""
        sql = f"SELECT COUNT(*) FROM ({self._TAKEN_BY.format(item=':item')})"
        return self.conn.execute(sql, {"item": article_id, "me": labeler, "now": now}).fetchone()[0]

    def leases_held(self, labeler: str) -> list[tuple[str, str]]:
        """(article_id, kind) of articles leased to the labeler (live or lapsed), latest first."""
        return [
            (r["article_id"], r["kind"])
            for r in self.conn.execute(
                "SELECT article_id, kind FROM assignments WHERE labeler = ? AND status = 'leased' "
                "ORDER BY leased_at DESC",
                (labeler,),
            ).fetchall()
        ]

    def next_open(
        self, kind: str, labeler: str, need: int, now: float, not_in: str | None = None
    ) -> str | None:
        """The first queued article of `kind` the labeler was never given, with < `need` coders.

        Queue order: priority, then the time it was queued, then id. `not_in`: leave out articles
        that are also queued under that kind.
        """
        exclude = (
            ""
            if not_in is None
            else "AND NOT EXISTS (SELECT 1 FROM queue r WHERE r.article_id = q.article_id "
            "AND r.kind = :not_in) "
        )
        row = self.conn.execute(
            "SELECT q.article_id FROM queue q WHERE q.kind = :kind "
            "AND NOT EXISTS (SELECT 1 FROM assignments m WHERE m.article_id = q.article_id "
            "AND m.labeler = :me) "
            "AND NOT EXISTS (SELECT 1 FROM annotations o WHERE o.article_id = q.article_id "
            "AND o.labeler = :me) "
            + exclude
            + f"AND (SELECT COUNT(*) FROM ({self._TAKEN_BY.format(item='q.article_id')})) < :need "
            "ORDER BY q.priority DESC, q.added_at, q.article_id LIMIT 1",
            {"kind": kind, "me": labeler, "now": now, "need": need, "not_in": not_in},
        ).fetchone()
        return row[0] if row else None

    def add_lease(self, article_id: str, labeler: str, kind: str, now: float, until: float) -> None:
        """Lease the article to the labeler, as an item of `kind`, until `until` (epoch seconds)."""
        self.conn.execute(
            "INSERT INTO assignments (article_id, labeler, kind, status, leased_at, leased_until) "
            "VALUES (?, ?, ?, 'leased', ?, ?)",
            (article_id, labeler, kind, now, until),
        )

    def renew_lease(self, article_id: str, labeler: str, until: float) -> None:
        """Hold the labeler's leased article for them until `until` (epoch seconds)."""
        self.conn.execute(
            "UPDATE assignments SET leased_until = ? WHERE article_id = ? AND labeler = ?",
            (until, article_id, labeler),
        )

    def release(self, article_id: str, labeler: str) -> None:
        """Drop the labeler's assignment of the article (it goes back to the queue for them)."""
        self.conn.execute(
            "DELETE FROM assignments WHERE article_id = ? AND labeler = ?", (article_id, labeler)
        )

    # --- items: saving, undoing, progress ------------------------------------------------------

    def is_leased_to(self, article_id: str, labeler: str) -> bool:
        """Whether the article is leased to the labeler now (shown, not yet saved or skipped)."""
        return (
            self.conn.execute(
                "SELECT 1 FROM assignments WHERE article_id = ? AND labeler = ? "
                "AND status = 'leased'",
                (article_id, labeler),
            ).fetchone()
            is not None
        )

    def finish_item(
        self,
        labeler: str,
        article_id: str,
        annotations: list[Annotation],
        seconds: float | None,
        status: str,
        overlap: int,
    ) -> None:
        """Save ('done') or skip ('skipped') a labeler's leased article, in one transaction.

        Raises InputError if the article is not leased to them, or others filled it while their
        lease lapsed.
        """
        if status not in ("done", "skipped"):
            raise ValueError(status)
        now = time.time()
        with self.transaction():
            row = self.conn.execute(
                "SELECT kind FROM assignments WHERE article_id = ? AND labeler = ? "
                "AND status = 'leased'",
                (article_id, labeler),
            ).fetchone()
            if row is None:
                raise InputError(
                    "this article is not assigned to you (already saved, or never given); reload"
                )
            need = overlap if row["kind"] == "reliability" else 1
            if status == "done" and self.coders_besides(article_id, labeler, now) >= need:
                self.conn.execute(
                    "DELETE FROM assignments WHERE article_id = ? AND labeler = ?",
                    (article_id, labeler),
                )
                raise InputError(
                    "your lease on this article ran out and other coders have coded it; reload "
                    "for the next"
                )
            # A label coded on the page belongs to the sample its queue kind names.
            for ann in annotations:
                self.upsert_annotation(replace(ann, sample=ann.sample or row["kind"]))
            seq = self.conn.execute(
                "SELECT COALESCE(MAX(finished_seq), 0) + 1 FROM assignments WHERE labeler = ?",
                (labeler,),
            ).fetchone()[0]
            self.conn.execute(
                "UPDATE assignments SET status = ?, finished_seq = ?, seconds = ?, "
                "finished_at = ?, draft = NULL WHERE article_id = ? AND labeler = ?",
                (status, seq, seconds, now, article_id, labeler),
            )

    def undo_last(self, labeler: str, lease_seconds: float) -> str | None:
        """Undo the labeler's last save or skip; returns its article id, None if nothing to undo.

        Its annotations become the item's draft, and it is leased to them again.

        The draft (`draft`) lets the page show the article with the labels it had, ticked.
        """
        now = time.time()
        with self.transaction():
            row = self.conn.execute(
                "SELECT article_id FROM assignments WHERE labeler = ? "
                "AND status IN ('done', 'skipped') ORDER BY finished_seq DESC LIMIT 1",
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
        """The labels an undone item had ([{scheme, target, labels}]) to tick again; [] if none."""
        row = self.conn.execute(
            "SELECT draft FROM assignments WHERE article_id = ? AND labeler = ?",
            (article_id, labeler),
        ).fetchone()
        return json.loads(row[0]) if row and row[0] else []

    def assignments(self, labeler: str | None = None) -> list[dict[str, Any]]:
        """Assignment rows (who was given what, and what came of it)."""
        order = "labeler, finished_seq, article_id"
        return [dict(r) for r in self._select("assignments", order, labeler=labeler)]

    def finished_count(self, labeler: str) -> int:
        """How many articles the labeler has saved or skipped."""
        return self.conn.execute(
            "SELECT COUNT(*) FROM assignments WHERE labeler = ? AND status != 'leased'", (labeler,)
        ).fetchone()[0]

    def progress(self, labeler: str, since: float, overlap: int) -> dict[str, int]:
        """A labeler's progress line: items coded since `since` and queued items open to them.

        `since` is in epoch seconds. "Open" counts queued articles this labeler was never given
        whose coders are not all done (reliability articles need `overlap`, others one); leases
        held by others still count as open.
        """
        today = self.conn.execute(
            "SELECT COUNT(*) FROM assignments WHERE labeler = ? AND status = 'done' "
            "AND finished_at >= ?",
            (labeler, since),
        ).fetchone()[0]
        # Counted as queued articles, less those given to this labeler, less those others have
        # finished (each term an index scan; a scan of the queue with a subquery per row cost 30 ms
        # at 17,000 items).
        queued = self.conn.execute("SELECT COUNT(DISTINCT article_id) FROM queue").fetchone()[0]
        mine = self.conn.execute(
            "SELECT COUNT(*) FROM assignments a WHERE a.labeler = ? AND EXISTS "
            "(SELECT 1 FROM queue q WHERE q.article_id = a.article_id)",
            (labeler,),
        ).fetchone()[0]
        full = self.conn.execute(
            "SELECT COUNT(*) FROM (SELECT d.article_id FROM assignments d WHERE d.status = 'done' "
            "AND EXISTS (SELECT 1 FROM queue q WHERE q.article_id = d.article_id) AND NOT EXISTS "
            "(SELECT 1 FROM assignments m WHERE m.article_id = d.article_id AND m.labeler = :me) "
            "GROUP BY d.article_id HAVING COUNT(*) >= CASE WHEN EXISTS (SELECT 1 FROM queue r "
            "WHERE r.article_id = d.article_id AND r.kind = 'reliability') THEN :overlap ELSE 1 "
            "END)",
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
            "SELECT COUNT(DISTINCT a.article_id) FROM assignments a "
            "JOIN queue q ON q.article_id = a.article_id WHERE a.labeler != ? "
            "AND a.status = 'leased' AND a.leased_until > ? AND NOT EXISTS (SELECT 1 "
            "FROM assignments m WHERE m.article_id = a.article_id AND m.labeler = ?)",
            (labeler, now, labeler),
        ).fetchone()[0]
        unreviewed = self.conn.execute(
            "SELECT COUNT(*) FROM (SELECT 1 FROM annotations n WHERE n.gold = 0 "
            "GROUP BY n.article_id, n.scheme, n.target HAVING COUNT(DISTINCT n.labels) > 1 AND "
            "NOT EXISTS (SELECT 1 FROM annotations g WHERE g.gold = 1 "
            "AND g.article_id = n.article_id AND g.scheme = n.scheme AND g.target = n.target))"
        ).fetchone()[0]
        return {"queued": queued, "held": held, "unreviewed": unreviewed}
