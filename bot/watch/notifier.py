"""How a watch tells people: the posted card edited in place plus one reply in its thread, or a
DM (with the fresh card) for a private card. Never broadcast to the channel."""

from __future__ import annotations

import logging

from bot.cards import Card
from bot.cards.outline import Watching
from bot.cards.watch import render_watch_expired, render_watch_notice
from bot.flow_cards import FlowCards, LookupOutcome
from bot.flow_changes import Change
from bot.replies import SlackReplies
from bot.snapshot import FlowSnapshot
from bot.state_store import Watch

log = logging.getLogger(__name__)


class SlackWatchNotifier:
    def __init__(self, cards: FlowCards, replies: SlackReplies) -> None:
        self._cards = cards
        self._replies = replies

    def moved(self, watch: Watch, snapshot: FlowSnapshot, found: list[Change], final: bool) -> None:
        notice = render_watch_notice(
            watch.flow_id,
            found,
            watcher=watch.user_id,
            final=final,
            thread_ts=watch.thread_ts,
        )
        card = self.card(watch, snapshot, watching=not final)
        if watch.private:
            self._dm(watch, notice.followed_by(card))
            return
        assert watch.card_channel is not None and watch.card_ts is not None  # noqa: S101
        self._replies.update(watch.card_channel, watch.card_ts, card.to_message())
        self._replies.post(watch.card_channel, notice.to_message(), thread_ts=watch.thread_ts)

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
