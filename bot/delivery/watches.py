"""How a watch tells people: the posted card edited in place plus one reply in its thread, or a
DM (with the fresh card) for a private card. Never broadcast to the channel.

A change's notice is rendered here as steps for the outbox (bot.watch.notices), which makes
the calls through `send` and `open_dm`: tried once each, with a short timeout, since the outbox
retries on its own schedule.
"""

from __future__ import annotations

import logging

from bot.cards import Card
from bot.cards.outline import Watching
from bot.cards.watch import render_watch_expired, render_watch_notice
from bot.delivery.flow_cards import FlowCards, LookupOutcome
from bot.flows.changes import Change
from bot.flows.snapshot import FlowSnapshot
from bot.slack.replies import Fate, PostResult, SlackReplies
from bot.state.records import Watch
from bot.watch.notices import (
    EDIT_CARD,
    NOTICE_CALL_TIMEOUT,
    POST_REPLY,
    Step,
    direct_message,
    edit_card,
    post_reply,
)

log = logging.getLogger(__name__)


class SlackWatchNotifier:
    def __init__(self, cards: FlowCards, replies: SlackReplies) -> None:
        self._cards = cards
        self._replies = replies
        self._once = replies.without_retries(NOTICE_CALL_TIMEOUT)

    def compose(
        self, watch: Watch, snapshot: FlowSnapshot, found: list[Change], final: bool
    ) -> list[Step]:
        """The Slack calls that tell this change, in order."""
        notice = render_watch_notice(
            watch.flow_id,
            found,
            watcher=watch.user_id,
            final=final,
            thread_ts=watch.thread_ts,
        )
        card = self.card(watch, snapshot, watching=not final)
        if watch.private:
            return [direct_message(watch.user_id, notice.followed_by(card).to_message())]
        assert watch.card_channel is not None and watch.card_ts is not None  # noqa: S101
        return [
            edit_card(watch.card_channel, watch.card_ts, card.to_message()),
            post_reply(watch.card_channel, watch.thread_ts, notice.to_message()),
        ]

    def send(self, step: Step) -> PostResult:
        channel, message = str(step.get("channel")), step.get("message")
        if not isinstance(message, dict):
            return PostResult(ok=False, error="no_message", fate=Fate.REFUSED)
        if step.get("do") == EDIT_CARD:
            return self._once.update(channel, str(step.get("ts")), message)
        if step.get("do") == POST_REPLY:
            thread_ts = step.get("thread_ts")
            return self._once.post(channel, message, thread_ts=thread_ts and str(thread_ts))
        return PostResult(ok=False, error="unknown_step", fate=Fate.REFUSED)

    def open_dm(self, user_id: str) -> PostResult:
        return self._once.open_dm(user_id)

    def expired(self, watch: Watch) -> None:
        note = render_watch_expired(
            watch.flow_id,
            hours=round((watch.expires_at - watch.started_at) / 3600, 2),
            watcher=watch.user_id,
        )
        if watch.private:
            self._dm(watch, note)
            return
        assert watch.card_channel is not None  # noqa: S101
        self._replies.post(watch.card_channel, note.to_message(), thread_ts=watch.thread_ts)
        self.restore(watch)

    def restore(self, watch: Watch) -> None:
        """Put a posted card back to offering Watch once its watch is over."""
        if watch.private or watch.card_channel is None or watch.card_ts is None:
            return
        try:
            outcome = LookupOutcome(watch.flow_id, snapshot=self._cards.lookup(watch.flow_id))
        except Exception:  # noqa: BLE001 (an old card is not worth a failure)
            return
        card = self._cards.render(
            outcome, ephemeral=False, thread_ts=watch.thread_ts, requested_by=watch.requested_by
        )
        self._replies.update(watch.card_channel, watch.card_ts, card.to_message())

    def card(self, watch: Watch, snapshot: FlowSnapshot, *, watching: bool) -> Card:
        return self._cards.render(
            LookupOutcome(watch.flow_id, snapshot=snapshot),
            ephemeral=False,
            thread_ts=watch.thread_ts,
            requested_by=None if watch.private else watch.requested_by,
            offer_share=False,
            watching=Watching(watch.user_id, by_dm=watch.private) if watching else None,
        )

    def _dm(self, watch: Watch, card: Card) -> None:
        opened = self._replies.open_dm(watch.user_id)
        if not opened.ok or opened.channel is None:
            log.warning("could not open a DM for a watch notice", extra={"error": opened.error})
            return
        self._replies.post(opened.channel, card.to_message())
