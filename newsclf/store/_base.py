"""The store's connection: SQLite in WAL mode, a transaction per write, migrations on open.

`StoreBase` is what every subject's mixin builds on: `self.conn` (rows as `sqlite3.Row`) and
`self.transaction()`. Opening a store applies the migrations `_schema.MIGRATIONS` it lacks.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from sqlite3 import Cursor
from typing import Any, Callable, Iterable, Iterator, Self, TypeVar

from newsclf.errors import NewsclfError
from newsclf.store._schema import AFTER, MIGRATIONS, SCHEMA_VERSION, split_sql

DEFAULT_DB = "newsclf.db"
_Item = TypeVar("_Item")  # what one upsert takes: an Article, an Annotation


def now_iso() -> str:
    """The current UTC time as ISO 8601 with its offset."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def default_db_path() -> str:
    """The store path from NEWSCLF_DB, else ./newsclf.db."""
    return os.environ.get("NEWSCLF_DB") or DEFAULT_DB


class StoreBase:
    """A newsclf SQLite database in WAL mode; every write runs in one transaction."""

    def __init__(self, path: str | os.PathLike[str] | None = None):
        self.path = str(path or default_db_path())
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self.conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self.conn.row_factory = sqlite3.Row
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA foreign_keys=ON")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise NewsclfError(f"{self.path}: not a usable newsclf database ({exc})") from None

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT, rolled back on any error."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def _upsert_all(self, items: Iterable[_Item], upsert: Callable[[_Item], str]) -> dict[str, int]:
        """`upsert` each item, all in one transaction; returns counts by outcome."""
        counts = {"new": 0, "updated": 0, "unchanged": 0}
        with self.transaction():
            for item in items:
                counts[upsert(item)] += 1
        return counts

    @property
    def schema_version(self) -> int:
        """How many migrations this database has applied."""
        return self.conn.execute("PRAGMA user_version").fetchone()[0]

    def _select(self, table: str, order: str = "", columns: str = "*", **equal: Any) -> Cursor:
        """Rows of `table` whose columns equal the values given (None: any value), in `order`."""
        given = {name: value for name, value in equal.items() if value is not None}
        sql = f"SELECT {columns} FROM {table}"
        if given:
            sql += " WHERE " + " AND ".join(f"{name} = ?" for name in given)
        if order:
            sql += f" ORDER BY {order}"
        return self.conn.execute(sql, list(given.values()))

    def _migrate(self) -> None:
        version = self.schema_version
        if version > SCHEMA_VERSION:
            raise NewsclfError(
                f"{self.path} has schema version {version}, newer than this newsclf knows "
                f"({SCHEMA_VERSION}); upgrade newsclf"
            )
        for number in range(version, SCHEMA_VERSION):
            with self.transaction() as conn:
                for statement in split_sql(MIGRATIONS[number]):
                    conn.execute(statement)
                if number + 1 in AFTER:
                    AFTER[number + 1](conn)
                conn.execute(f"PRAGMA user_version = {number + 1}")
