"""The watch door: starting, stopping and listing watches from Slack (WatchDelivery), and how a
watch tells people (SlackWatchNotifier): the posted card edited in place plus one reply in its
thread, or a DM (with the fresh card) for a private card. Never broadcast to the channel.

A change's notice is rendered here as steps for the outbox (bot.watch.notices), which makes
the calls through `send` and `open_dm`: tried once each, with a short timeout, since the outbox
retries on its own schedule.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from bot.cards import Card
from bot.cards.outline import Watching
from bot.cards.watch import (
    WatchRefusal,
    render_unwatched,
    render_watch_expired,
    render_watch_list,
    render_watch_notice,
    render_watch_refusal,
)
from bot.delivery.answering import Answering, LanguageOf
from bot.delivery.background import BackgroundWork
from bot.delivery.flow_cards import FlowCards, LookupOutcome
from bot.flows.changes import Change
from bot.flows.snapshot import FlowSnapshot
from bot.slack.replies import Fate, PostResult, SlackReplies
from bot.slack.reply_target import ReplyTarget
from bot.slack.requester import Requester
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
from bot.watch.service import WatchService, place_of

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


class WatchDelivery(Answering):
    def __init__(
        self,
        cards: FlowCards,
        replies: SlackReplies,
        work: BackgroundWork,
        *,
        watches: WatchService | None = None,
        notifier: SlackWatchNotifier | None = None,
        languages: LanguageOf | None = None,
    ) -> None:
        super().__init__(cards, replies, work, languages=languages)
        self._watches = watches
        self._notifier = notifier

    def watch(
        self,
        flow_id: str,
        *,
        requester: Requester,
        reply_to: ReplyTarget,
        requested_by: str | None,
    ) -> None:
        """Start watching from a card or a command; the card (or a new private one) then shows
        that it is watched. Nothing is posted to the channel."""

        def start() -> None:
            place = place_of(flow_id, requester, reply_to, requested_by=requested_by)
            outcome = self._cards.look_up(flow_id, requester=requester, trigger="watch")
            language = self.language(requester.user_id)
            if outcome.snapshot is None or place is None or self._watches is None:
                card = self._cards.render(outcome, ephemeral=True, language=language)
                self.respond(reply_to, card, replace=False)
                return
            started = self._watches.start(outcome.snapshot, place)
            if isinstance(started, WatchRefusal):
                limit = (
                    self._watches.limits.per_channel
                    if started is WatchRefusal.CHANNEL_LIMIT
                    else self._watches.limits.total
                )
                note = render_watch_refusal(
                    started, flow_id=flow_id, limit=limit, language=language
                )
                self.respond(reply_to, note, replace=False)
                return
            card = self._cards.render(
                outcome,
                ephemeral=place.private,
                thread_ts=reply_to.thread_ts,
                requested_by=None if place.private else requested_by,
                offer_share=reply_to.can_share and place.private,
                watching=Watching(requester.user_id, by_dm=place.private),
                language=language if place.private else "both",
            )
            target = reply_to.posted_message
            if (
                not place.private
                and target is not None
                and self._replies.update(*target, card.to_message()).ok
            ):
                return
            self.respond(reply_to, card)

        self.submit(reply_to, start)

    def unwatch(
        self,
        flow_id: str,
        *,
        requester: Requester,
        reply_to: ReplyTarget,
        requested_by: str | None,
    ) -> None:
        """Stop a watch from its card or from a notice; the card offers Watch again."""

        def stop() -> None:
            place = place_of(flow_id, requester, reply_to, requested_by=requested_by)
            stopped = (
                self._watches.stop(place.watch_id)
                if place is not None and self._watches is not None
                else None
            )
            language = self.language(requester.user_id)
            if stopped is not None and not stopped.private and self._notifier is not None:
                # From a notice or from the card: the card itself offers Watch again.
                self._notifier.restore(stopped)
                if reply_to.message_ts != stopped.card_ts:
                    note = render_unwatched(flow_id, count=1, language=language)
                    self.respond(reply_to, note, replace=False)
                return
            if stopped is not None and reply_to.ephemeral:
                card = self._cards.card(
                    flow_id,
                    requester=requester,
                    trigger="unwatch",
                    ephemeral=True,
                    thread_ts=reply_to.thread_ts,
                    offer_share=reply_to.can_share,
                    language=language,
                )
                self.respond(reply_to, card)
                return
            note = render_unwatched(flow_id, count=int(stopped is not None), language=language)
            self.respond(reply_to, note, replace=False)

        self.submit(reply_to, stop)

    def unwatch_flows(
        self, flow_ids: Iterable[str], *, requester: Requester, reply_to: ReplyTarget
    ) -> None:
        """`/esign-flow unwatch <id>`: this channel's watches of the flow, and the person's own."""

        def stop() -> None:
            language = self.language(requester.user_id)
            for flow_id in flow_ids:
                stopped = (
                    self._watches.stop_flow(
                        flow_id, channel_id=reply_to.channel_id, user_id=requester.user_id
                    )
                    if self._watches is not None
                    else []
                )
                for watch in stopped:
                    if self._notifier is not None:
                        self._notifier.restore(watch)
                note = render_unwatched(flow_id, count=len(stopped), language=language)
                self.respond(reply_to, note)

        self.submit(reply_to, stop)

    def list_watches(self, *, requester: Requester, reply_to: ReplyTarget) -> None:
        """`/esign-flow watching`: the flows watched in this channel, and the person's own."""

        def answer() -> None:
            watches = (
                self._watches.listed(channel_id=reply_to.channel_id, user_id=requester.user_id)
                if self._watches is not None
                else []
            )
            entries = [(w.flow_id, w.user_id, w.private) for w in watches]
            self.respond(reply_to, render_watch_list(entries, self.language(requester.user_id)))

        self.submit(reply_to, answer)
