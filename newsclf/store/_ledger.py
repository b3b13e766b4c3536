"""The feed job's export ledger (`newsclf run --out DIR`): the part files it wrote, and which.

`export_parts` lists the part files written into an output folder (out_dir is its absolute path);
`exported` says which part holds each article's predictions (by which model), so a rerun after a
kill exports each article once. The job reconciles the ledger against the folder at every start.
"""

from __future__ import annotations

from typing import Any, Iterable

from newsclf.store._base import StoreBase, now_iso


class ExportLedger(StoreBase):
    """The `export_parts` and `exported` tables."""

    def unexported_article_ids(self, out_dir: str, model_id: str) -> list[str]:
        """Ids of articles with this model's predictions that no part file in out_dir holds yet."""
        return [
            r[0]
            for r in self.conn.execute(
                "SELECT DISTINCT p.article_id FROM predictions p "
                "JOIN articles a ON a.id = p.article_id WHERE p.model_id = ? AND NOT EXISTS "
                "(SELECT 1 FROM exported e WHERE e.out_dir = ? AND e.model_id = p.model_id "
                "AND e.article_id = p.article_id) ORDER BY a.published IS NULL, a.published, a.id",
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
