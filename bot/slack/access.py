"""Who may look flows up: optional allow-lists of teams, channels, users and user groups.

Each list that is set must let the request through; an empty list allows everyone on that
dimension. Users pass when they are listed or belong to a listed user group.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from enum import StrEnum
from queue import SimpleQueue

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.slack.requester import Requester

log = logging.getLogger(__name__)

#: Group membership changes rarely; asking Slack on every lookup would add a call per request.
MEMBERSHIP_TTL_SECONDS = 300
#: Past this age (refreshes failing all along), members are read again before a request passes.
MEMBERSHIP_MAX_STALE_SECONDS = 3600


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
    """usergroups.users.list, kept fresh off the request thread.

    The web process serves every ack from one thread (bot/app/web/server.py), so a request must not
    wait on Slack: once a group's members are known, a request past their TTL still gets them
    and a refresh runs in the background. Only a group never read (or not read successfully for
    MEMBERSHIP_MAX_STALE_SECONDS, so that someone removed from it is not let in for long) is
    read while the request waits; `warm` reads the configured groups at start-up so the first
    requests need not. A failed read allows no one from that group.
    """

    def __init__(
        self,
        client: WebClient,
        *,
        ttl: float = MEMBERSHIP_TTL_SECONDS,
        max_stale: float = MEMBERSHIP_MAX_STALE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._ttl, self._max_stale, self._clock = ttl, max_stale, clock
        self._lock = threading.Lock()
        self._known: dict[str, tuple[frozenset[str], float]] = {}
        self._refreshing: set[str] = set()
        # One long-lived thread: a request only queues a name (starting a thread would wait
        # for the GIL), and a daemon never holds up the process's exit.
        self._wanted: SimpleQueue[str | None] = SimpleQueue()
        threading.Thread(target=self._refresh_forever, name="usergroups", daemon=True).start()

    def __call__(self, usergroup_id: str) -> frozenset[str]:
        with self._lock:
            known = self._known.get(usergroup_id)
        if known is not None:
            members, read_at = known
            age = self._clock() - read_at
            if age < self._max_stale:
                if age >= self._ttl:
                    self._refresh_later(usergroup_id)
                return members
        return self._read(usergroup_id) or frozenset()

    def warm(self, usergroup_ids: Iterable[str]) -> None:
        """Read these groups in the background now."""
        for usergroup_id in usergroup_ids:
            self._refresh_later(usergroup_id)

    def close(self) -> None:
        self._wanted.put(None)

    def _refresh_later(self, usergroup_id: str) -> None:
        with self._lock:
            if usergroup_id in self._refreshing:
                return
            self._refreshing.add(usergroup_id)
        self._wanted.put(usergroup_id)

    def _refresh_forever(self) -> None:
        while (usergroup_id := self._wanted.get()) is not None:
            try:
                self._read(usergroup_id)
            finally:
                with self._lock:
                    self._refreshing.discard(usergroup_id)

    def _read(self, usergroup_id: str) -> frozenset[str] | None:
        try:
            response = self._client.usergroups_users_list(usergroup=usergroup_id)
            users = response.get("users") or []
            members = frozenset(u for u in users if isinstance(u, str))
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.warning(
                "could not read user group members",
                extra={"usergroup": usergroup_id, "error": type(exc).__name__},
            )
            return None
        with self._lock:
            self._known[usergroup_id] = (members, self._clock())
        return members
