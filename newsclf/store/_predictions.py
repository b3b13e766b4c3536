"""Models and what they made of articles: predictions, the articles a model skipped, and results
kept for reuse while their inputs are unchanged (the `cache` table)."""

from __future__ import annotations

import json
from typing import Any, Iterable

from newsclf.store._base import StoreBase, now_iso


class Predictions(StoreBase):
    """The `models`, `predictions`, `skipped` and `cache` tables."""

    def add_model(
        self, model_id: str, path: str, guide_name: str, guide_version: str, metrics: dict[str, Any]
    ) -> None:
        """Record a trained model."""
        with self.transaction():
            self.conn.execute(
                "INSERT INTO models (id, path, guide_name, guide_version, created_at, metrics) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE "
                "SET path = excluded.path, metrics = excluded.metrics",
                (model_id, path, guide_name, guide_version, now_iso(), json.dumps(metrics)),
            )

    def add_predictions(
        self, rows: Iterable[tuple[str, str, str, str, dict[str, float], list[str]]]
    ) -> int:
        """Store (article_id, model_id, scheme, target, probabilities, labels); replaces older."""
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
        order = "article_id, scheme, target"
        return [
            {
                **dict(r),
                "probabilities": json.loads(r["probabilities"]),
                "labels": json.loads(r["labels"]),
            }
            for r in self._select("predictions", order, article_id=article_id, model_id=model_id)
        ]

    def unpredicted_article_ids(self, model_id: str) -> list[str]:
        """Ids of articles this model has neither labeled nor skipped, oldest published first."""
        return [
            r[0]
            for r in self.conn.execute(
                "SELECT id FROM articles a WHERE NOT EXISTS (SELECT 1 FROM predictions p "
                "WHERE p.article_id = a.id AND p.model_id = :m) AND NOT EXISTS (SELECT 1 "
                "FROM skipped k WHERE k.article_id = a.id AND k.model_id = :m) "
                "ORDER BY published IS NULL, published, id",
                {"m": model_id},
            )
        ]

    def add_skipped(self, rows: Iterable[tuple[str, str, str]]) -> int:
        """Record (article_id, model_id, reason) of articles a model did not label; returns rows.

        A rerun replaces the rows it repeats.
        """
        with self.transaction():
            return sum(
                self.conn.execute(
                    "INSERT OR REPLACE INTO skipped VALUES (?, ?, ?, ?)", (a, m, reason, now_iso())
                ).rowcount
                for a, m, reason in rows
            )

    def skipped(self, model_id: str | None = None) -> dict[str, str]:
        """{article_id: reason} of articles the model did not label (all models' if None)."""
        rows = self._select("skipped", columns="article_id, reason", model_id=model_id)
        return {r[0]: r[1] for r in rows}

    def cached(self, name: str, key: str) -> bytes | None:
        """The value kept under `name` if computed from inputs hashing to `key`, else None."""
        row = self.conn.execute(
            "SELECT value FROM cache WHERE name = ? AND key = ?", (name, key)
        ).fetchone()
        return None if row is None else bytes(row[0])

    def set_cached(self, name: str, key: str, value: bytes) -> None:
        """Keep `value` under `name`, replacing the value of older inputs (one row per name)."""
        with self.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO cache (name, key, value, created_at) VALUES (?, ?, ?, ?)",
                (name, key, value, now_iso()),
            )
