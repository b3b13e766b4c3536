"""The labeling page's people: labelers and their tokens, login sessions, the page's settings."""

from __future__ import annotations

import secrets
import time
from typing import Any

from newsclf.store._base import StoreBase, now_iso


class Labelers(StoreBase):
    """The `labelers`, `label_sessions` and `label_settings` tables."""

    def add_labeler(self, name: str, role: str, token_hash: str) -> None:
        """Add a labeler, or give an existing one a new role and token (ending their sessions)."""
        with self.transaction():
            self.conn.execute(
                "INSERT INTO labelers (name, role, token_hash, created_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET role = excluded.role, token_hash = "
                "excluded.token_hash",
                (name, role, token_hash, now_iso()),
            )
            self.conn.execute("DELETE FROM label_sessions WHERE labeler = ?", (name,))

    def revoke_labeler(self, name: str) -> bool:
        """End the labeler's sessions and void their token; False if the labeler is unknown.

        `add_labeler` gives them a new token.
        """
        with self.transaction():
            # Not a SHA-256 hex digest, so no token can hash to it; unique per labeler.
            found = self.conn.execute(
                "UPDATE labelers SET token_hash = ? WHERE name = ?",
                ("revoked:" + secrets.token_hex(16), name),
            ).rowcount
            self.conn.execute("DELETE FROM label_sessions WHERE labeler = ?", (name,))
        return bool(found)

    def remove_labeler(self, name: str) -> bool:
        """Remove a labeler; False if unknown.

        Their sessions end and their live leases go back to the queue; what they coded stays.
        """
        with self.transaction():
            self.conn.execute("DELETE FROM label_sessions WHERE labeler = ?", (name,))
            self.conn.execute(
                "DELETE FROM assignments WHERE labeler = ? AND status = 'leased'", (name,)
            )
            return bool(self.conn.execute("DELETE FROM labelers WHERE name = ?", (name,)).rowcount)

    def labeler_by_token_hash(self, token_hash: str) -> dict[str, Any] | None:
        """The labeler whose login token hashes to this, or None."""
        row = self.conn.execute(
            "SELECT name, role FROM labelers WHERE token_hash = ?", (token_hash,)
        ).fetchone()
        return dict(row) if row else None

    def labelers(self) -> list[dict[str, Any]]:
        """Every labeler's name, role and creation time (never the token hash)."""
        return [
            dict(r)
            for r in self.conn.execute("SELECT name, role, created_at FROM labelers ORDER BY name")
        ]

    def label_setting(self, key: str, make: Any) -> str:
        """A stored setting (such as the cookie-signing secret), made by make() the first time."""
        row = self.conn.execute("SELECT value FROM label_settings WHERE key = ?", (key,)).fetchone()
        if row:
            return row[0]
        with self.transaction():
            self.conn.execute("INSERT OR IGNORE INTO label_settings VALUES (?, ?)", (key, make()))
        return self.conn.execute(
            "SELECT value FROM label_settings WHERE key = ?", (key,)
        ).fetchone()[0]

    def add_session(self, id_hash: str, labeler: str, csrf: str, expires: float) -> None:
        """Open a login session (expired ones are dropped on the way)."""
        with self.transaction():
            self.conn.execute("DELETE FROM label_sessions WHERE expires < ?", (time.time(),))
            self.conn.execute(
                "INSERT INTO label_sessions VALUES (?, ?, ?, ?)", (id_hash, labeler, csrf, expires)
            )

    def get_session(self, id_hash: str) -> dict[str, Any] | None:
        """A live session with its labeler's role, or None (unknown or expired)."""
        row = self.conn.execute(
            "SELECT s.labeler AS name, s.csrf, s.expires, l.role FROM label_sessions s "
            "JOIN labelers l ON l.name = s.labeler WHERE s.id_hash = ? AND s.expires > ?",
            (id_hash, time.time()),
        ).fetchone()
        return dict(row) if row else None

    def delete_session(self, id_hash: str) -> None:
        """Log a session out."""
        with self.transaction():
            self.conn.execute("DELETE FROM label_sessions WHERE id_hash = ?", (id_hash,))
