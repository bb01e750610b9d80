"""Access tokens for e签宝's older OAuth2 mode ("not recommended" by e签宝, still used).

The rule that matters to clients: issuing a new token cuts every earlier token of the same app
to at most five more minutes, so processes that each fetch their own token knock each other out.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_TOKEN_TTL_SECONDS = 120 * 60
#: What is left of an older token once a newer one is issued for the same app.
SUPERSEDED_TOKEN_LIFE_SECONDS = 5 * 60


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    refresh_token: str
    expires_at_ms: int  # absolute epoch milliseconds, as e签宝's `expiresIn` carries it


@dataclass(slots=True)
class _Grant:
    app_id: str
    expires_at_ms: int


class TokenStore:
    """Thread-safe record of the tokens the simulator issued."""

    def __init__(
        self, clock: Callable[[], float], ttl_seconds: float = DEFAULT_TOKEN_TTL_SECONDS
    ) -> None:
        self._clock = clock
        self._ttl_ms = int(ttl_seconds * 1000)
        self._lock = threading.Lock()
        self._grants: dict[str, _Grant] = {}
        #: refresh token -> app id; each refresh token works once.
        self._refresh_tokens: dict[str, str] = {}

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    def issue(self, app_id: str) -> IssuedToken:
        now = self._now_ms()
        cut_to = now + SUPERSEDED_TOKEN_LIFE_SECONDS * 1000
        with self._lock:
            for token, grant in list(self._grants.items()):
                if grant.expires_at_ms <= now:
                    del self._grants[token]  # keep the store small over long runs
                elif grant.app_id == app_id:
                    grant.expires_at_ms = min(grant.expires_at_ms, cut_to)
            issued = IssuedToken(
                token=secrets.token_hex(16),
                refresh_token=secrets.token_hex(16),
                expires_at_ms=now + self._ttl_ms,
            )
            self._grants[issued.token] = _Grant(app_id, issued.expires_at_ms)
            self._refresh_tokens[issued.refresh_token] = app_id
        return issued

    def refresh(self, app_id: str, refresh_token: str) -> IssuedToken | None:
        """A new token for a refresh token this app was given and has not used yet."""
        with self._lock:
            if self._refresh_tokens.get(refresh_token) != app_id:
                return None
            del self._refresh_tokens[refresh_token]
        return self.issue(app_id)

    def is_valid(self, app_id: str, token: str) -> bool:
        with self._lock:
            grant = self._grants.get(token)
            return (
                grant is not None
                and grant.app_id == app_id
                and (grant.expires_at_ms > self._now_ms())
            )

    def expires_at_ms(self, token: str) -> int | None:
        """When `token` stops working (None if it was never issued or was expired by hand)."""
        with self._lock:
            grant = self._grants.get(token)
            return grant.expires_at_ms if grant else None

    def expire_all(self) -> None:
        """Invalidate every access token; refresh tokens keep working, as a refresh should."""
        with self._lock:
            self._grants.clear()
