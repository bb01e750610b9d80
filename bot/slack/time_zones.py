"""Each person's time zone as Slack knows it (users.info → `tz`), read once a day at most.

A daily digest is set in the zone of the person who sets it. A failed read is not remembered
(the next one asks again) and says None: the caller then uses UTC and says so.
"""

from __future__ import annotations

import logging
import threading
from typing import Final

from cachetools import TTLCache
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

log = logging.getLogger(__name__)

#: People move between zones rarely; a day late is fine.
TZ_TTL_SECONDS: Final = 24 * 3600.0
MAX_PEOPLE: Final = 20_000


class SlackTimeZones:
    def __init__(
        self, client: WebClient, *, ttl: float = TZ_TTL_SECONDS, maxsize: int = MAX_PEOPLE
    ) -> None:
        self._client = client
        self._lock = threading.Lock()
        self._known: TTLCache[str, str] = TTLCache(maxsize=maxsize, ttl=ttl)

    def __call__(self, user_id: str) -> str | None:
        """The person's IANA zone ("Asia/Shanghai"), or None when Slack could not say."""
        with self._lock:
            known = self._known.get(user_id)
        if known is not None:
            return known or None
        try:
            response = self._client.users_info(user=user_id)
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.warning("could not read a Slack time zone", extra={"error": type(exc).__name__})
            return None
        user = response.get("user")
        tz = user.get("tz") if isinstance(user, dict) else None
        found = tz if isinstance(tz, str) else ""
        with self._lock:
            self._known[user_id] = found
        return found or None
