"""Coders' labels (annotations), reviewers' decisions on disagreements (reviews), and flags."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterable

from newsclf.errors import InputError
from newsclf.store._base import StoreBase, now_iso

# The samples a label can belong to (annotations.sample): the page's queue kinds, and 'other'.
SAMPLES = ("estimation", "reliability", "active", "seed", "uncertain", "other")


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


class Annotations(StoreBase):
    """The `annotations`, `reviews` and `label_flags` tables."""

    def add_annotations(self, annotations: Iterable[Annotation]) -> dict[str, int]:
        """Insert or replace coders' labels in one transaction; returns counts by outcome.

        A repeat of the same labels changes nothing.
        """
        return self._upsert_all(annotations, self.upsert_annotation)

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
            "SELECT labels, gold, sample FROM annotations WHERE article_id = ? AND scheme = ? "
            "AND target = ? AND labeler = ?",
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
            "INSERT INTO annotations (article_id, scheme, target, labels, labeler, seconds, "
            "created_at, guide_version, gold, sample) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (article_id, scheme, target, labeler) DO UPDATE "
            "SET labels = excluded.labels, seconds = excluded.seconds, created_at = "
            "excluded.created_at, guide_version = excluded.guide_version, gold = excluded.gold, "
            "sample = excluded.sample",
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
        order = "article_id, scheme, target, labeler"
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
            for r in self._select("annotations", order, scheme=scheme, article_id=article_id)
        ]

    def disagreements(self, scheme: str, exclude_coder: str | None = None) -> list[tuple[str, str]]:
        """(article_id, target) units of a scheme whose coders disagree, with no gold label yet.

        Units that `exclude_coder` coded are left out: a reviewer does not settle their own
        disagreement.
        """
        sql = (
            "SELECT article_id, target FROM annotations WHERE scheme = :scheme AND gold = 0 "
            "GROUP BY article_id, target HAVING COUNT(DISTINCT labels) > 1 "
            "AND SUM(labeler = :me) = 0 AND NOT EXISTS (SELECT 1 FROM annotations g "
            "WHERE g.gold = 1 AND g.scheme = :scheme AND g.article_id = annotations.article_id "
            "AND g.target = annotations.target) ORDER BY article_id, target"
        )
        return [
            (r[0], r[1])
            for r in self.conn.execute(sql, {"scheme": scheme, "me": exclude_coder or ""})
        ]

    def add_review(self, ann: Annotation, method: str, coder_labels: dict[str, list[str]]) -> int:
        """Store a reviewer's final labels as a gold annotation; returns the review's id.

        The review records who decided, how, and from which coders' labels.
        """
        with self.transaction():
            self.upsert_annotation(ann)
            cur = self.conn.execute(
                "INSERT INTO reviews (article_id, scheme, target, reviewer, labels, method, "
                "coder_labels, guide_version, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
