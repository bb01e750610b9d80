"""The outbox of watch notices: kept in the state store until Slack has them, told once.

A change is claimed and queued in one write (StateStore.queue_notice), with the Slack calls
that tell it, rendered then: edit the posted card, reply in its thread, or DM the watcher. The
process that found it tries at once; when Slack fails (5xx, 429, no connection) the notice
waits, and the poller of any process tries again later under a lease (one process at a time),
backing off from a few seconds to a few minutes and never sooner than Slack's Retry-After,
for up to an hour.

One call is ambiguous: sent, and no answer came (a timeout). Editing the card again is
harmless, so it is retried; a reply or a DM might then be told twice, so it is not sent again
(a possible loss, never a duplicate; the edited card still shows the new status).
"""

from __future__ import annotations

import dataclasses
import logging
import random
import time
import uuid
from collections.abc import Callable
from typing import Any, Final, Protocol

from bot.slack.replies import Fate, PostResult
from bot.state.records import PendingNotice, StateStore, StoreUnavailable

log = logging.getLogger(__name__)

#: The first wait after a failed attempt; each next one doubles, up to MAX_BACKOFF_SECONDS.
FIRST_BACKOFF_SECONDS: Final = 5.0
MAX_BACKOFF_SECONDS: Final = 300.0
#: A notice Slack has not taken by then is given up, with a warning.
GIVE_UP_SECONDS: Final = 3600.0
#: Longer than one attempt can take (a few Slack calls, each with NOTICE_CALL_TIMEOUT).
LEASE_SECONDS: Final = 60.0
#: How long one Slack call of a notice waits for its answer.
NOTICE_CALL_TIMEOUT: Final = 10

# The steps, as stored (plain JSON): what to do, where, and the message.
EDIT_CARD: Final = "update"  # {channel, ts, message}: idempotent, so retried after a timeout
POST_REPLY: Final = "post"  # {channel, thread_ts, message}
DM: Final = "dm"  # {user, message}: conversations.open, then a post

Step = dict[str, Any]


class NoticeSender(Protocol):
    def send(self, step: Step) -> PostResult:
        """Make one EDIT_CARD or POST_REPLY call."""
        ...

    def open_dm(self, user_id: str) -> PostResult: ...


def edit_card(channel: str, ts: str, message: dict[str, Any]) -> Step:
    return {"do": EDIT_CARD, "channel": channel, "ts": ts, "message": message}


def post_reply(channel: str, thread_ts: str | None, message: dict[str, Any]) -> Step:
    return {"do": POST_REPLY, "channel": channel, "thread_ts": thread_ts, "message": message}


def direct_message(user_id: str, message: dict[str, Any]) -> Step:
    return {"do": DM, "user": user_id, "message": message}


def backoff(attempts: int, retry_after: float | None, rng: random.Random) -> float:
    """Seconds until the next attempt: doubling from FIRST_BACKOFF_SECONDS, a little jittered,
    and never before Slack's Retry-After."""
    step = min(MAX_BACKOFF_SECONDS, FIRST_BACKOFF_SECONDS * 2.0 ** min(attempts, 16))
    return max(step * rng.uniform(1.0, 1.2), retry_after or 0.0)


class NoticeOutbox:
    def __init__(
        self,
        store: StateStore,
        sender: NoticeSender,
        *,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        on_notice: Callable[[str], None] | None = None,
    ) -> None:
        """`on_notice`: told what became of each notice (delivered, retried, gave_up,
        dropped_step), for the metrics."""
        self._store = store
        self._sender = sender
        self._on_notice = on_notice or _not_counted
        self._clock = clock
        self._rng = rng or random.Random()  # noqa: S311 (jitter, not secrecy)

    def new(self, key: str, watch_id: str, steps: list[Step]) -> PendingNotice:
        now = self._clock()
        return PendingNotice(
            key=key,
            watch_id=watch_id,
            steps=steps,
            created_at=now,
            next_attempt_at=now,
            give_up_at=now + GIVE_UP_SECONDS,
        )

    def due(self, limit: int) -> list[PendingNotice]:
        return self._store.due_notices(self._clock(), limit)

    def deliver(self, key: str) -> None:
        """One attempt at a pending notice, if it is due and no other process is at it."""
        # A holder per attempt: two threads of one process never both hold it either.
        holder = f"notice-{uuid.uuid4().hex[:12]}"
        lease = f"notice|{key}"
        notice = self._due(key)
        if notice is None or self._store.first_notice(notice.watch_id) != key:
            return  # told, not due, or behind an older change of its watch (told first)
        if not self._store.lease(lease, holder, LEASE_SECONDS):
            return
        notice = self._due(key)  # read again: another process may have just been at it
        if notice is None:
            return
        wait = self._attempt(notice)
        if wait is not None:
            # The lease runs out when the next attempt is due, for whichever process is there.
            self._store.lease(lease, holder, wait)

    def _due(self, key: str) -> PendingNotice | None:
        notice = self._store.get_notice(key)
        if notice is None or notice.next_attempt_at > self._clock():
            return None
        return notice

    def _attempt(self, notice: PendingNotice) -> float | None:
        """Work through the notice's steps; the wait before the next attempt, or None when the
        notice is finished."""
        steps = list(notice.steps)
        while steps:
            step = steps[0]
            result, again = self._send(step)
            if result.ok and result.channel is not None and step.get("do") == DM:
                steps[0] = post_reply(result.channel, None, step["message"])
            elif result.ok:
                steps.pop(0)
            elif result.fate is Fate.NOT_DONE or (result.fate is Fate.UNKNOWN and again):
                return self._later(dataclasses.replace(notice, steps=steps), result)
            else:
                log.warning(
                    "a watch notice step was not delivered and is not sent again",
                    extra={
                        "step": step.get("do"),
                        "error": result.error,
                        "status": result.fate,
                        "watch_id": notice.watch_id,
                    },
                )
                self._on_notice("dropped_step")
                steps.pop(0)
            if steps and not self._store.update_notice(dataclasses.replace(notice, steps=steps)):
                return None  # finished elsewhere (the watch was unwatched)
        self._store.finish_notice(notice.key)
        self._on_notice("delivered")
        if notice.attempts:
            log.info(
                "watch notice delivered after Slack failed",
                extra={"attempts": notice.attempts + 1, "watch_id": notice.watch_id},
            )
        return None

    def _send(self, step: Step) -> tuple[PostResult, bool]:
        """The call's result, and whether it may be sent again after an unknown outcome."""
        kind = step.get("do")
        if kind == DM:
            return self._sender.open_dm(str(step.get("user"))), True
        if kind in (EDIT_CARD, POST_REPLY):
            return self._sender.send(step), kind == EDIT_CARD
        return PostResult(ok=False, error=f"unknown step {kind!r}", fate=Fate.REFUSED), False

    def _later(self, notice: PendingNotice, failed: PostResult) -> float | None:
        wait = backoff(notice.attempts, failed.retry_after, self._rng)
        now = self._clock()
        if now + wait > notice.give_up_at:
            log.warning(
                "gave up on a watch notice: Slack did not take it within the hour",
                extra={
                    "watch_id": notice.watch_id,
                    "attempts": notice.attempts + 1,
                    "error": failed.error,
                },
            )
            self._store.finish_notice(notice.key)
            self._on_notice("gave_up")
            return None
        self._on_notice("retried")
        log.info(
            "watch notice not delivered yet; will try again",
            extra={
                "watch_id": notice.watch_id,
                "error": failed.error,
                "retry_in": round(wait, 1),
                "attempts": notice.attempts + 1,
            },
        )
        later = dataclasses.replace(
            notice, attempts=notice.attempts + 1, next_attempt_at=now + wait
        )
        self._store.update_notice(later)
        return wait


def _not_counted(kind: str) -> None:
    return None


def deliver_quietly(outbox: NoticeOutbox, key: str) -> None:
    """deliver(), with a store that is down costing a log line: the poller tries again."""
    try:
        outbox.deliver(key)
    except StoreUnavailable as exc:
        log.info("watch notice waits: the state store is unavailable", extra={"error": str(exc)})
