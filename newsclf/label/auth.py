"""Labelers' login tokens, signed session cookies, CSRF tokens and login throttling.

A labeler logs in with a token printed once by `newsclf labelers add`; the store keeps only its
SHA-256 (a 32-byte random token cannot be guessed, so a slow hash adds nothing). A session is a
random id kept server-side (hashed) with its expiry and its own CSRF token; the cookie carries the
id and an HMAC of it under a per-store secret, and is HttpOnly and SameSite=Strict.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque

ROLES = ("labeler", "reviewer", "admin")
SESSION_COOKIE = "newsclf_session"
LOGIN_COOKIE = "newsclf_login"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"


def new_token() -> str:
    """A fresh login token (43 URL-safe characters, 256 random bits)."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the store keeps of a token."""
    return hashlib.sha256(token.strip().encode("utf-8", "replace")).hexdigest()


def sign(secret: str, value: str) -> str:
    """value.HMAC-SHA256(secret, value)."""
    return value + "." + hmac.new(secret.encode(), value.encode(), hashlib.sha256).hexdigest()


def unsign(secret: str, signed: str | None) -> str | None:
    """The value of a signed cookie, or None if it is missing or its signature does not match."""
    if not signed or "." not in signed or len(signed) > 200:
        return None
    value, _, _ = signed.rpartition(".")
    return value if hmac.compare_digest(sign(secret, value), signed) else None


def same(a: str | None, b: str | None) -> bool:
    """Constant-time comparison of two tokens; missing or empty never matches."""
    return bool(a) and bool(b) and hmac.compare_digest(str(a).encode(), str(b).encode())


class Throttle:
    """At most `limit` events (failed logins, flags) per key within `window` seconds, in a table of
    at most
    `max_keys` keys: when it is full, keys with no recent event go first, then the oldest."""

    def __init__(self, limit: int = 5, window: float = 300.0, max_keys: int = 10_000):
        self.limit, self.window, self.max_keys = limit, window, max_keys
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        events = self._events.get(key, deque())
        while events and events[0] < now - self.window:
            events.popleft()
        return events

    def blocked(self, key: str) -> bool:
        """Whether this key must wait before trying again (asking adds no key to the table)."""
        with self._lock:
            return len(self._recent(key, time.monotonic())) >= self.limit

    def failed(self, key: str) -> None:
        """Count an event (a failed login, a flag) for this key."""
        now = time.monotonic()
        with self._lock:
            if key not in self._events and len(self._events) >= self.max_keys:
                for old in [k for k in self._events if not self._recent(k, now)]:
                    del self._events[old]
                while len(self._events) >= self.max_keys:
                    del self._events[next(iter(self._events))]
            events = self._events[key] = self._recent(key, now)
            events.append(now)

    def __len__(self) -> int:
        return len(self._events)
