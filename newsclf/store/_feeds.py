"""Feeds the collector polls: what each poll left (etag, last-modified, status) and entries seen."""

from __future__ import annotations

from typing import Any

from newsclf.store._base import StoreBase, now_iso


class Feeds(StoreBase):
    """The `feeds` and `feed_entries` tables."""

    def feed_state(self, url: str) -> dict[str, Any]:
        """What the last poll of a feed left: etag, last_modified, body_hash, last_polled.

        Empty if the feed was never polled.
        """
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
                "SELECT f.*, (SELECT COUNT(*) FROM feed_entries e "
                "WHERE e.feed_url = f.url) AS entries FROM feeds f ORDER BY f.url"
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
        """Remember a feed entry as collected.

        Called after its article is stored, so a kill never loses one.
        """
        with self.transaction():
            self.conn.execute(
                "INSERT INTO feeds (url) VALUES (?) ON CONFLICT (url) DO NOTHING", (feed_url,)
            )
            self.conn.execute(
                "INSERT OR REPLACE INTO feed_entries VALUES (?, ?, ?, ?)",
                (feed_url, entry_key, article_id, now_iso()),
            )
