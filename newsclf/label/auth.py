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
from collections import defaultdict, deque

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
    """At most `limit` failed logins per client address within `window` seconds."""

    def __init__(self, limit: int = 5, window: float = 300.0):
        self.limit, self.window = limit, window
        self._fails: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        fails = self._fails[key]
        while fails and fails[0] < now - self.window:
            fails.popleft()
        return fails

    def blocked(self, key: str) -> bool:
        """Whether this client must wait before trying again."""
        with self._lock:
            return len(self._recent(key, time.monotonic())) >= self.limit

    def failed(self, key: str) -> None:
        """Count a failed login."""
        with self._lock:
            self._recent(key, time.monotonic()).append(time.monotonic())
