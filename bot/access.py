"""Who may look flows up: optional allow-lists of teams, channels, users and user groups.

Each list that is set must let the request through; an empty list allows everyone on that
dimension. Users pass when they are listed or belong to a listed user group.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from enum import StrEnum

from cachetools import TTLCache
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.audit import Requester

log = logging.getLogger(__name__)

#: Group membership changes rarely; asking Slack on every lookup would add a call per request.
MEMBERSHIP_TTL_SECONDS = 300


class Refusal(StrEnum):
    """Which allow-list turned a request away (the cards word it for the person)."""

    TEAM = "team"
    CHANNEL = "channel"
    USER = "user"


class AccessPolicy:
    def __init__(
        self,
        *,
        team_ids: Iterable[str] = (),
        channel_ids: Iterable[str] = (),
        user_ids: Iterable[str] = (),
        usergroup_ids: Iterable[str] = (),
        group_members: Callable[[str], frozenset[str]] | None = None,
    ) -> None:
        self._teams = frozenset(team_ids)
        self._channels = frozenset(channel_ids)
        self._users = frozenset(user_ids)
        self._groups = tuple(usergroup_ids)
        self._group_members = group_members

    @property
    def restricted(self) -> bool:
        return bool(self._teams or self._channels or self._users or self._groups)

    def refusal(self, requester: Requester) -> Refusal | None:
        """Which list keeps this requester from looking flows up; None when they may."""
        if self._teams and requester.team_id not in self._teams:
            return Refusal.TEAM
        if self._channels and requester.channel_id not in self._channels:
            return Refusal.CHANNEL
        if (self._users or self._groups) and not self._user_allowed(requester.user_id):
            return Refusal.USER
        return None

    def _user_allowed(self, user_id: str | None) -> bool:
        if user_id is None:
            return False
        if user_id in self._users:
            return True
        if self._group_members is None:
            return False
        return any(user_id in self._group_members(group) for group in self._groups)


class UsergroupMembers:
    """usergroups.users.list through a TTL cache; a failed call allows no one from that group."""

    def __init__(self, client: WebClient) -> None:
        self._client = client
        self._lock = threading.Lock()
        self._cache: TTLCache[str, frozenset[str]] = TTLCache(
            maxsize=256, ttl=MEMBERSHIP_TTL_SECONDS
        )

    def __call__(self, usergroup_id: str) -> frozenset[str]:
        with self._lock:
            cached = self._cache.get(usergroup_id)
        if cached is not None:
            return cached
        try:
            response = self._client.usergroups_users_list(usergroup=usergroup_id)
            users = response.get("users") or []
            members = frozenset(u for u in users if isinstance(u, str))
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.warning(
                "could not read user group members",
                extra={"usergroup": usergroup_id, "error": type(exc).__name__},
            )
            return frozenset()
        with self._lock:
            self._cache[usergroup_id] = members
        return members
