"""Each person's Slack locale (users.info with include_locale), read once a day at most.

A person who never chose a language on the Home tab gets the one their Slack speaks. Only the
background work asks (never an ack: bot/delivery/messages.py renders on the ack only in a language
already known), and a failed read says None, so the answer goes out in both languages.
"""

from __future__ import annotations

import logging
import threading
from typing import Final

from cachetools import TTLCache
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

log = logging.getLogger(__name__)

#: A person changes their Slack language rarely; a day late is fine.
LOCALE_TTL_SECONDS: Final = 24 * 3600.0
#: Bounded: one entry per person who used the bot within a day.
MAX_PEOPLE: Final = 20_000
#: How long a second asker waits for the first one's answer (the client's own timeout bounds
#: the first).
ASK_WAIT_SECONDS: Final = 10.0


class SlackLocales:
    def __init__(
        self,
        client: WebClient,
        *,
        ttl: float = LOCALE_TTL_SECONDS,
        maxsize: int = MAX_PEOPLE,
    ) -> None:
        self._client = client
        self._lock = threading.Lock()
        # A person without a locale is remembered too (""), so they are not asked about again.
        self._known: TTLCache[str, str] = TTLCache(maxsize=maxsize, ttl=ttl)
        self._asking: dict[str, threading.Event] = {}

    def __call__(self, user_id: str) -> str | None:
        """The person's locale ("zh-CN"), or None when Slack has none or could not say.

        Concurrent misses for one person make one call (an answer and the language warm-up
        of the same request often ask together); the others wait for it."""
        with self._lock:
            known = self._known.get(user_id)
            if known is not None:
                return known or None
            asking = self._asking.get(user_id)
            if asking is None:
                self._asking[user_id] = threading.Event()
        if asking is not None:
            asking.wait(ASK_WAIT_SECONDS)
            with self._lock:
                known = self._known.get(user_id)
            return known or None
        found: str | None = None
        try:
            found = self._ask(user_id)
        finally:
            with self._lock:
                if found is not None:
                    self._known[user_id] = found
                self._asking.pop(user_id).set()
        return found or None

    def _ask(self, user_id: str) -> str | None:
        """ "" when Slack has no locale for the person; None when Slack could not say."""
        try:
            response = self._client.users_info(user=user_id, include_locale=True)
        except (SlackApiError, SlackClientError, OSError) as exc:
            # Not remembered: the next answer asks again.
            log.warning("could not read a Slack locale", extra={"error": type(exc).__name__})
            return None
        user = response.get("user")
        locale = user.get("locale") if isinstance(user, dict) else None
        return locale if isinstance(locale, str) else ""
