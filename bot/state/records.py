"""What the state store keeps, and the protocol both engines (SQLite, Redis) implement.

Records are JSON with a schema version; a row that does not read as one (corrupt, or written by
a newer version) is skipped with a warning, never a crash.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Final, Protocol

from bot.language import Language
from bot.state.digest_records import DigestStore

log = logging.getLogger(__name__)

SCHEMA_VERSION: Final = 1
#: Most recent lookups kept per person (the Home tab shows the latest ten).
RECENT_PER_PERSON: Final = 10


class StoreUnavailable(Exception):
    """The store could not be read or written just now (Redis down, a locked database)."""


@dataclass(frozen=True, slots=True)
class Watch:
    """Someone waiting on a flow: where its card is, whom to tell, and what was seen last."""

    flow_id: str
    #: The watcher, mentioned in thread notices and sent DMs for a private card.
    user_id: str
    team_id: str | None
    #: The conversation the watch was started in (limits count per channel).
    channel_id: str | None
    #: A posted card's channel and ts (edited in place); None for a private card.
    card_channel: str | None
    card_ts: str | None
    #: The thread notices are posted in (the card's own thread, or the card itself).
    thread_ts: str | None
    started_at: float
    expires_at: float
    next_poll_at: float
    poll_step: int = 0
    #: The flow as last seen (bot.flows.changes.flow_state); empty until first seen.
    last_seen: dict[str, Any] = field(default_factory=dict)
    #: Who a posted card names as its requester, kept when the card is edited.
    requested_by: str | None = None

    @property
    def private(self) -> bool:
        return self.card_ts is None

    @property
    def watch_id(self) -> str:
        """One watch per flow and thread (or per flow and person, for private cards)."""
        # A posted card's watch is its thread's: its notices (and their Unwatch) live there.
        thread = self.thread_ts or self.card_ts
        where = f"{self.card_channel}/{thread}" if self.card_ts else f"dm/{self.user_id}"
        return f"{self.flow_id}@{where}"

    def to_json(self) -> str:
        return json.dumps({"v": SCHEMA_VERSION, **asdict(self)}, ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str | bytes) -> Watch | None:
        data = _record(raw)
        if data is None:
            return None
        try:
            watch = cls(**data)
        except TypeError:
            _skipped("watch", raw)
            return None
        if not isinstance(watch.flow_id, str) or not isinstance(watch.last_seen, dict):
            _skipped("watch", raw)
            return None
        return watch


@dataclass(frozen=True, slots=True)
class PendingNotice:
    """A watch notice claimed but not yet wholly told: the Slack calls still to make.

    Kept apart from its watch, so a watch that ends (a final status, or it expires) still
    tells what it found. `steps` are plain JSON objects, rendered when the change was found
    (bot.watch.notices says what they hold); each is removed once Slack has it.
    """

    #: The claim key: one per watch and change, so a change is queued once by any process.
    key: str
    watch_id: str
    steps: list[dict[str, Any]]
    created_at: float
    next_attempt_at: float
    give_up_at: float
    attempts: int = 0

    def to_json(self) -> str:
        return json.dumps({"v": SCHEMA_VERSION, **asdict(self)}, ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str | bytes) -> PendingNotice | None:
        data = _record(raw)
        if data is None:
            return None
        try:
            notice = cls(**data)
        except TypeError:
            _skipped("pending notice", raw)
            return None
        if not isinstance(notice.key, str) or not isinstance(notice.steps, list):
            _skipped("pending notice", raw)
            return None
        return notice


@dataclass(frozen=True, slots=True)
class RecentLookup:
    flow_id: str
    #: e签宝's raw flow status when it was looked up ("" when the lookup failed).
    status: str
    looked_up_at: float

    def to_json(self) -> str:
        return json.dumps({"v": SCHEMA_VERSION, **asdict(self)}, ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str | bytes) -> RecentLookup | None:
        data = _record(raw)
        if data is None:
            return None
        try:
            return cls(**data)
        except TypeError:
            _skipped("recent lookup", raw)
            return None


@dataclass(frozen=True, slots=True)
class ChannelAuto:
    """A channel whose messages naming flow ids are answered in their thread: who turned it on,
    and when (the setting lives until someone turns it off)."""

    channel_id: str
    user_id: str
    turned_on_at: float

    def to_json(self) -> str:
        return json.dumps({"v": SCHEMA_VERSION, **asdict(self)}, ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str | bytes) -> ChannelAuto | None:
        data = _record(raw)
        if data is None:
            return None
        try:
            setting = cls(**data)
        except TypeError:
            _skipped("channel setting", raw)
            return None
        if not isinstance(setting.channel_id, str) or not isinstance(setting.user_id, str):
            _skipped("channel setting", raw)
            return None
        return setting


def _record(raw: str | bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(raw)
    except (ValueError, TypeError):
        _skipped("record", raw)
        return None
    if not isinstance(data, dict) or data.pop("v", None) != SCHEMA_VERSION:
        _skipped("record", raw)
        return None
    return data


def _skipped(kind: str, raw: object) -> None:
    log.warning("skipped a %s the store cannot read", kind, extra={"size": len(str(raw))})
    return None


class StateStore(DigestStore, Protocol):
    def put_watch(self, watch: Watch) -> None: ...
    def update_watch(self, watch: Watch) -> bool:
        """Rewrite a watch that still exists; False (and nothing written) once it is removed,
        so a poll finishing after an Unwatch cannot bring the watch back."""
        ...

    def get_watch(self, watch_id: str) -> Watch | None: ...
    def remove_watch(self, watch_id: str) -> bool: ...
    def watches_for_flow(self, flow_id: str) -> list[Watch]: ...
    def watches_in_channel(self, channel_id: str) -> list[Watch]: ...
    def watches_of_user(self, user_id: str) -> list[Watch]: ...
    def count_watches(self, channel_id: str | None = None) -> int: ...
    def due_watches(self, now: float, limit: int) -> list[Watch]: ...
    def lease(self, watch_id: str, holder: str, seconds: float) -> bool:
        """Take (or renew) the right to poll this watch; another holder's live lease wins."""
        ...

    def claim_notice(self, key: str, seconds: float) -> bool:
        """True exactly once per key within `seconds`, whichever process asks first."""
        ...

    def queue_notice(self, notice: PendingNotice, claim_seconds: float) -> bool:
        """Claim `notice.key` (as claim_notice) and keep the notice until it is finished, in one
        write: True for the one caller that queued it."""
        ...

    def due_notices(self, now: float, limit: int) -> list[PendingNotice]:
        """Notices whose next attempt is due, each the oldest still pending for its watch (so a
        watch's notices are told in order)."""
        ...

    def get_notice(self, key: str) -> PendingNotice | None: ...
    def first_notice(self, watch_id: str) -> str | None:
        """The key of the watch's oldest pending notice, the one to tell next."""
        ...

    def update_notice(self, notice: PendingNotice) -> bool:
        """Rewrite a notice still pending; False once it is finished."""
        ...

    def finish_notice(self, key: str) -> None: ...
    def drop_notices(self, watch_id: str) -> int:
        """Forget a watch's pending notices (the person unwatched it); how many."""
        ...

    def add_recent(self, user_id: str, lookup: RecentLookup) -> None: ...
    def recent(self, user_id: str) -> list[RecentLookup]: ...
    def clear_recent(self, user_id: str) -> None: ...
    def language(self, user_id: str) -> Language | None: ...
    def set_language(self, user_id: str, language: Language) -> None: ...
    def set_channel_auto(self, setting: ChannelAuto) -> None: ...
    def channel_auto(self, channel_id: str) -> ChannelAuto | None: ...
    def clear_channel_auto(self, channel_id: str) -> bool:
        """Turn a channel's automatic answers off; False when they were not on."""
        ...

    def keep_unfurl(self, key: str, unfurl: str, seconds: float) -> None:
        """Keep a rendered unfurl (JSON) for `seconds`, for the same link shown again."""
        ...

    def kept_unfurl(self, key: str) -> str | None: ...
    def close(self) -> None: ...


def newest_first(lookups: Iterable[RecentLookup]) -> list[RecentLookup]:
    return sorted(lookups, key=lambda r: r.looked_up_at, reverse=True)[:RECENT_PER_PERSON]
