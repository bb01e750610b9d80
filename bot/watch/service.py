"""Watches: started from a card or a command, checked by polls and e签宝 callbacks, told once.

Each look at a watched flow goes through the same lookup as people's cards (cache, single
flight, the e签宝 call budget, the circuit breaker). A look that fails is simply tried again
later; only a real difference from what was seen last becomes a notice, and a notice is claimed
and queued in the state store in one write, so it is told exactly once whichever process (or
callback) found it, and kept until Slack has it (bot.watch.notices).
"""

from __future__ import annotations

import dataclasses
import logging
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Protocol

from bot.cards.watch import WatchRefusal
from bot.esign.errors import EsignError
from bot.flows.cache import FlowLookup
from bot.flows.changes import Change, changes, fingerprint, flow_state, is_final
from bot.flows.snapshot import FlowSnapshot
from bot.slack.reply_target import ReplyTarget
from bot.slack.requester import Requester
from bot.state.records import PendingNotice, StateStore, StoreUnavailable, Watch
from bot.watch.notices import NoticeOutbox, NoticeSender, Step, deliver_quietly
from bot.watch.schedule import poll_delay

log = logging.getLogger(__name__)

#: While the store is down, one warning a minute says so (the rest go to DEBUG).
STORE_WARNING_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class WatchLimits:
    max_hours: float = 24.0
    per_channel: int = 50
    total: int = 5_000
    #: The first look comes within this many seconds of the start; later ones back off.
    first_poll_seconds: float = 30.0


class WatchNotifier(NoticeSender, Protocol):
    def compose(
        self, watch: Watch, snapshot: FlowSnapshot, found: list[Change], final: bool
    ) -> list[Step]: ...

    def expired(self, watch: Watch) -> None: ...


@dataclass(frozen=True, slots=True)
class WatchPlace:
    """Where a watch lives: a posted card (its channel and thread), or a person's private card."""

    flow_id: str
    user_id: str
    team_id: str | None
    channel_id: str | None
    card_channel: str | None
    card_ts: str | None
    thread_ts: str | None
    requested_by: str | None

    @property
    def private(self) -> bool:
        return self.card_ts is None

    @property
    def watch_id(self) -> str:
        return self.prototype(0.0, 0.0).watch_id

    def prototype(self, now: float, expires_at: float) -> Watch:
        return Watch(
            flow_id=self.flow_id,
            user_id=self.user_id,
            team_id=self.team_id,
            channel_id=self.channel_id,
            card_channel=self.card_channel,
            card_ts=self.card_ts,
            thread_ts=self.thread_ts,
            started_at=now,
            expires_at=expires_at,
            next_poll_at=now,
            requested_by=self.requested_by,
        )


def place_of(
    flow_id: str, requester: Requester, reply_to: ReplyTarget, *, requested_by: str | None
) -> WatchPlace | None:
    """The watch a click or command means. A private card, a DM or a command watches for the
    person (notices by DM); a posted card watches in its thread. None without a user id."""
    user = requester.user_id
    if user is None:
        return None
    channel = reply_to.channel_id
    posted = reply_to.posted_message
    if posted is None or (channel or "").startswith("D"):
        return WatchPlace(flow_id, user, requester.team_id, channel, None, None, None, None)
    card_channel, card_ts = posted
    return WatchPlace(
        flow_id,
        user,
        requester.team_id,
        channel,
        card_channel,
        card_ts,
        reply_to.thread_ts or card_ts,
        requested_by,
    )


class WatchService:
    def __init__(
        self,
        store: StateStore,
        lookup: FlowLookup,
        notifier: WatchNotifier,
        limits: WatchLimits,
        *,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        on_notice: Callable[[str], None] | None = None,
    ) -> None:
        self._store = store
        self._lookup = lookup
        self._notifier = notifier
        self.limits = limits
        self._clock = clock
        self._rng = rng or random.Random()  # noqa: S311 (jitter, not secrecy)
        self._next_store_warning = 0.0
        self._outbox = NoticeOutbox(
            store, notifier, clock=clock, rng=self._rng, on_notice=on_notice
        )

    # --- people -------------------------------------------------------------------------

    def start(self, snapshot: FlowSnapshot, place: WatchPlace) -> Watch | WatchRefusal:
        """Watch from what the person saw; a refusal (limit, ended, store down) changes nothing."""
        if is_final(str(snapshot.outline.flow_status)):
            return WatchRefusal.FINAL
        try:
            existing = self._store.get_watch(place.watch_id)
            if existing is not None:
                return existing
            if place.channel_id and self._store.count_watches(place.channel_id) >= (
                self.limits.per_channel
            ):
                return WatchRefusal.CHANNEL_LIMIT
            if self._store.count_watches() >= self.limits.total:
                return WatchRefusal.TOTAL_LIMIT
            now = self._clock()
            watch = dataclasses.replace(
                place.prototype(now, now + self.limits.max_hours * 3600),
                next_poll_at=now + self._delay(0),
                last_seen=flow_state(snapshot.outline),
            )
            self._store.put_watch(watch)
        except StoreUnavailable as exc:
            self._store_trouble("could not start a watch", exc)
            return WatchRefusal.UNAVAILABLE
        log.info("watch started", extra={"flow_id": watch.flow_id, "private": watch.private})
        return watch

    def get(self, watch_id: str) -> Watch | None:
        try:
            return self._store.get_watch(watch_id)
        except StoreUnavailable as exc:
            self._store_trouble("could not read a watch", exc)
            return None

    def stop(self, watch_id: str) -> Watch | None:
        """The watch that was removed, or None when there was none (or the store is down). A
        notice still waiting for Slack goes too: the person asked to hear no more."""
        return self._remove(watch_id, drop_notices=True)

    def _remove(self, watch_id: str, *, drop_notices: bool) -> Watch | None:
        try:
            watch = self._store.get_watch(watch_id)
            if watch is not None and self._store.remove_watch(watch_id):
                if drop_notices:
                    self._store.drop_notices(watch_id)
                return watch
        except StoreUnavailable as exc:
            self._store_trouble("could not stop a watch", exc)
        return None

    def stop_flow(
        self, flow_id: str, *, channel_id: str | None, user_id: str | None
    ) -> list[Watch]:
        """`unwatch <id>`: the flow's watches in this channel, and the person's private one."""
        stopped = []
        for watch in self._safely(lambda: self._store.watches_for_flow(flow_id)):
            here = channel_id is not None and watch.channel_id == channel_id
            mine = watch.private and watch.user_id == user_id
            if (here or mine) and self.stop(watch.watch_id) is not None:
                stopped.append(watch)
        return stopped

    def stop_mine(self, flow_id: str, *, user_id: str, thread_ts: str | None) -> Watch | None:
        """A person's own watch of a flow, found without its card (from the Home tab): the
        one in `thread_ts`, or their private one when there is no thread."""
        for watch in self._safely(partial(self._store.watches_of_user, user_id)):
            if watch.flow_id != flow_id:
                continue
            if (watch.thread_ts == thread_ts) if thread_ts else watch.private:
                return self.stop(watch.watch_id)
        return None

    def listed(self, *, channel_id: str | None, user_id: str | None) -> list[Watch]:
        here = (
            self._safely(lambda: self._store.watches_in_channel(channel_id)) if channel_id else []
        )
        mine = self._safely(lambda: self._store.watches_of_user(user_id)) if user_id else []
        found = {w.watch_id: w for w in [*here, *(w for w in mine if w.private)]}
        return sorted(found.values(), key=lambda w: w.started_at)

    # --- looking again ------------------------------------------------------------------

    def due(self, limit: int) -> list[Watch]:
        return self._safely(lambda: self._store.due_watches(self._clock(), limit))

    def due_notices(self, limit: int) -> list[PendingNotice]:
        """Notices Slack has not taken yet whose next attempt is due."""
        try:
            return self._outbox.due(limit)
        except StoreUnavailable as exc:
            self._store_trouble("could not read pending notices", exc)
            return []

    def deliver_notice(self, key: str) -> None:
        deliver_quietly(self._outbox, key)

    def lease(self, watch: Watch, holder: str, seconds: float) -> bool:
        try:
            return self._store.lease(watch.watch_id, holder, seconds)
        except StoreUnavailable:
            return False

    def check(self, watch: Watch) -> None:
        """One poll: look (through the cache), compare, tell; a failed look is retried later."""
        if self._clock() >= watch.expires_at:
            self._expire(watch)
            return
        # The next look is booked before this one runs, so no other tick picks it up meanwhile.
        self._reschedule(watch, watch.poll_step + 1)
        try:
            snapshot = self._lookup.get(watch.flow_id)
        except EsignError as exc:
            log.info("watch poll failed; will look again", extra={"error": type(exc).__name__})
            return
        self.observe(watch.watch_id, snapshot)

    def on_callback(self, flow_ids: Iterable[str]) -> None:
        """e签宝 says these flows moved: look again at once, past the cache, for the watched."""
        for flow_id in flow_ids:
            watches = self._safely(partial(self._store.watches_for_flow, flow_id))
            if not watches:
                continue
            try:
                snapshot = self._lookup.refresh(flow_id)
            except EsignError as exc:
                log.info("lookup after a callback failed", extra={"error": type(exc).__name__})
                continue
            for watch in watches:
                self.observe(watch.watch_id, snapshot)

    def observe(self, watch_id: str, snapshot: FlowSnapshot) -> None:
        """Compare a fresh look with what the watch saw last; tell a change exactly once."""
        try:
            watch = self._store.get_watch(watch_id)
            if watch is None:
                return  # unwatched meanwhile
            new = flow_state(snapshot.outline)
            found = changes(watch.last_seen, new) if watch.last_seen else []
            final = is_final(new["status"])
            queued = None
            if found:
                key = f"{watch_id}|{fingerprint(watch.last_seen)}>{fingerprint(new)}"
                steps = self._notifier.compose(watch, snapshot, found, final)
                notice = self._outbox.new(key, watch_id, steps)
                if self._store.queue_notice(notice, self.limits.max_hours * 3600 + 3600):
                    queued = notice.key
            # The watch moves on before the notice is sent: a process killed in between finds
            # the notice queued (another process tells it), never the change to tell again.
            if final:
                self._store.remove_watch(watch_id)
            elif found or not watch.last_seen:
                # Moving again soon is likely after a move: start the back-off over.
                now = self._clock()
                self._store.update_watch(
                    dataclasses.replace(
                        watch, last_seen=new, poll_step=0, next_poll_at=now + self._delay(0)
                    )
                )
        except StoreUnavailable as exc:
            self._store_trouble("could not record a watched flow's state", exc)
            return
        if queued is not None:
            self.deliver_notice(queued)

    # --- inside -------------------------------------------------------------------------

    def _expire(self, watch: Watch) -> None:
        if self._remove(watch.watch_id, drop_notices=False) is not None:
            self._notifier.expired(watch)

    def _reschedule(self, watch: Watch, step: int) -> None:
        delay = self._delay(step)
        try:
            current = self._store.get_watch(watch.watch_id)
            if current is not None:
                self._store.put_watch(
                    dataclasses.replace(current, poll_step=step, next_poll_at=self._clock() + delay)
                )
        except StoreUnavailable as exc:
            self._store_trouble("could not book a watch's next look", exc)

    def _delay(self, step: int) -> float:
        return poll_delay(step, self.limits.first_poll_seconds, self._rng)

    def _safely(self, read: Callable[[], list[Watch]]) -> list[Watch]:
        try:
            return read()
        except StoreUnavailable as exc:
            self._store_trouble("could not read watches", exc)
            return []

    def _store_trouble(self, what: str, exc: StoreUnavailable) -> None:
        """Warn once a minute at most: the poller asks every second while the store is down."""
        now = time.monotonic()
        if now >= self._next_store_warning:
            self._next_store_warning = now + STORE_WARNING_SECONDS
            log.warning(what, extra={"error": str(exc)})
        else:
            log.debug(what, extra={"error": str(exc)})
