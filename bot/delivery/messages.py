"""The one way a card reaches a person: look the flow up after the ack, render, send.

Every listener ends here, so the rules live once: private answers go to the payload's
response_url; a public answer is posted to the channel or thread, and when Slack refuses, the
person gets the card privately with a note saying why and what would help; a private card acted
on (Recheck, Share) is replaced rather than answered twice. Nothing here raises into a listener:
BackgroundWork logs a failed job, and a job it cannot take (shutting down) is never dropped
silently: the person is told to try again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from bot.cards import (
    Card,
    Note,
    Notice,
    PublicAnswer,
    Watching,
    render_not_posted,
    render_notice,
)
from bot.cards.modal import render_check_modal, render_modal_cards, render_modal_note
from bot.cards.watch import (
    WatchRefusal,
    render_unwatched,
    render_watch_list,
    render_watch_refusal,
)
from bot.delivery.background import BackgroundWork
from bot.delivery.flow_cards import FlowCards, LookupOutcome
from bot.delivery.watches import SlackWatchNotifier
from bot.language import Language
from bot.slack.replies import SlackReplies
from bot.slack.reply_target import ReplyTarget, ViewRef
from bot.slack.requester import Requester
from bot.watch.service import WatchService, place_of

log = logging.getLogger(__name__)


class LanguageOf(Protocol):
    """A person's language for the cards only they see ("both" when unknown)."""

    def language(self, user_id: str | None) -> Language: ...

    def known_language(self, user_id: str | None) -> Language | None:
        """The language if known without a store read (None: not known yet)."""
        ...


class _Bilingual:
    def language(self, user_id: str | None) -> Language:
        return "both"

    def known_language(self, user_id: str | None) -> Language | None:
        return "both"


class CardDelivery:
    def __init__(
        self,
        cards: FlowCards,
        replies: SlackReplies,
        work: BackgroundWork,
        watches: WatchService | None = None,
        notifier: SlackWatchNotifier | None = None,
        *,
        languages: LanguageOf | None = None,
        max_ids: int = 5,
        views: BackgroundWork | None = None,
    ) -> None:
        """`views`: the pool for views.open, whose trigger dies 3 s after the click, so that it
        never queues behind lookups waiting on e签宝 (default: `work`)."""
        self._cards = cards
        self._replies = replies
        self._work = work
        self._views = views or work
        self._watches = watches
        self._notifier = notifier
        self._languages = languages or _Bilingual()
        self._max_ids = max_ids

    def tell(self, reply_to: ReplyTarget, note: Note, *, user_id: str | None = None) -> None:
        """A note only the person sees, in their language, sent after the ack (below a card
        acted on, not over it)."""
        self._submit(
            reply_to,
            lambda: self._respond(reply_to, note(self._language(user_id)), replace=False),
        )

    def ack_language(self, user_id: str | None) -> Language:
        """The language for words an ack carries: the person's when this process knows it
        without asking anyone, else both (and it is looked up now, for their next answer)."""
        known = self._languages.known_language(user_id)
        if known is not None:
            return known
        self._work.submit(lambda: self._language(user_id))
        return "both"

    def private_cards(
        self,
        flow_ids: Sequence[str],
        *,
        requester: Requester,
        reply_to: ReplyTarget,
        ack_may_carry: bool = False,
    ) -> Card | None:
        """One ephemeral card per flow (the slash command's answer).

        With `ack_may_carry`, the first flow's card is returned for the ack to carry when this
        process has the flow cached and knows the reader's language: the person sees it the
        moment the ack lands, and the response_url is not used for it. Every other card is
        delivered after the ack. Returns None when the ack carries nothing.
        """
        now = (
            self._card_for_ack(flow_ids[0], requester, reply_to)
            if ack_may_carry and flow_ids
            else None
        )
        for flow_id in flow_ids[1:] if now is not None else flow_ids:

            def deliver(flow_id: str = flow_id) -> None:
                card = self._cards.card(
                    flow_id,
                    requester=requester,
                    trigger="command",
                    ephemeral=True,
                    offer_share=reply_to.can_share,
                    language=self._language(requester.user_id),
                )
                self._respond(reply_to, card)

            self._submit(reply_to, deliver)
        return now

    def _card_for_ack(
        self, flow_id: str, requester: Requester, reply_to: ReplyTarget
    ) -> Card | None:
        # Only what needs no call at all: e签宝, Redis and the state store may each be slow.
        language = self._languages.known_language(requester.user_id)
        if language is None:
            return None
        outcome = self._cards.cached(flow_id, requester=requester, trigger="command")
        if outcome is None:
            return None
        return self._cards.render(
            outcome, ephemeral=True, offer_share=reply_to.can_share, language=language
        )

    def public_cards(
        self,
        flow_ids: Iterable[str],
        *,
        requester: Requester,
        reply_to: ReplyTarget,
        answer: PublicAnswer,
    ) -> None:
        """Post a card per flow where everyone sees it, naming who asked.

        When the person acted on a private card (Share), a posted card removes it. When Slack
        refuses the post, the person gets the card privately, below a note on what would help.
        """
        trigger = "share" if answer is PublicAnswer.SHARE else "shortcut"
        for flow_id in flow_ids:

            def deliver(flow_id: str = flow_id) -> None:
                outcome = self._cards.look_up(flow_id, requester=requester, trigger=trigger)
                card = self._cards.render(
                    outcome,
                    ephemeral=False,
                    thread_ts=reply_to.thread_ts,
                    requested_by=requester.user_id,
                )
                channel = reply_to.channel_id
                posted = (
                    self._replies.post(channel, card.to_message(), thread_ts=reply_to.thread_ts)
                    if channel
                    else None
                )
                if posted is not None and posted.ok:
                    if reply_to.ephemeral:
                        self._replies.respond(reply_to.response_url, {}, delete_original=True)
                    return
                language = self._language(requester.user_id)
                note = render_not_posted(
                    answer,
                    not_allowed_here=posted is not None and posted.not_allowed_here,
                    direct=reply_to.direct_message,
                    flow_id=flow_id,
                    language=language,
                )
                # Offer Share again only where it can work: inviting the bot fixes a channel,
                # not a DM between people.
                private = self._cards.render(
                    outcome,
                    ephemeral=True,
                    thread_ts=reply_to.thread_ts,
                    offer_share=reply_to.can_share,
                    language=language,
                )
                self._respond(reply_to, note.followed_by(private))

            self._submit(reply_to, deliver)

    def recheck(
        self,
        flow_id: str,
        *,
        requester: Requester,
        reply_to: ReplyTarget,
        requested_by: str | None,
    ) -> None:
        """Refresh a card in place: chat.update for a posted card, its response_url otherwise,
        and in a modal, the modal (views.update with the view's id and hash).

        A posted card keeps naming `requested_by` (whoever presses Recheck); a private card names
        no one, since only its reader sees it.
        """
        if reply_to.view is not None and reply_to.view.kind == "modal":
            self._recheck_modal(flow_id, requester, reply_to.view)
            return

        def refresh() -> None:
            card = self._cards.card(
                flow_id,
                requester=requester,
                trigger="recheck",
                ephemeral=reply_to.ephemeral,
                thread_ts=reply_to.thread_ts,
                requested_by=None if reply_to.ephemeral else requested_by,
                offer_share=reply_to.can_share,
                language=(self._language(requester.user_id) if reply_to.ephemeral else "both"),
                watching=self._watching(flow_id, requester, reply_to, requested_by),
            )
            target = reply_to.posted_message
            if target is not None and self._replies.update(*target, card.to_message()).ok:
                return
            # Ephemeral cards can only be changed through the click's own response_url.
            self._respond(reply_to, card, replace=True)

        self._submit(reply_to, refresh)

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
            language = self._language(requester.user_id)
            if outcome.snapshot is None or place is None or self._watches is None:
                card = self._cards.render(outcome, ephemeral=True, language=language)
                self._respond(reply_to, card, replace=False)
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
                self._respond(reply_to, note, replace=False)
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
            self._respond(reply_to, card)

        self._submit(reply_to, start)

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
            language = self._language(requester.user_id)
            if stopped is not None and not stopped.private and self._notifier is not None:
                # From a notice or from the card: the card itself offers Watch again.
                self._notifier.restore(stopped)
                if reply_to.message_ts != stopped.card_ts:
                    note = render_unwatched(flow_id, count=1, language=language)
                    self._respond(reply_to, note, replace=False)
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
                self._respond(reply_to, card)
                return
            note = render_unwatched(flow_id, count=int(stopped is not None), language=language)
            self._respond(reply_to, note, replace=False)

        self._submit(reply_to, stop)

    def unwatch_flows(
        self, flow_ids: Iterable[str], *, requester: Requester, reply_to: ReplyTarget
    ) -> None:
        """`/esign-flow unwatch <id>`: this channel's watches of the flow, and the person's own."""

        def stop() -> None:
            language = self._language(requester.user_id)
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
                self._respond(reply_to, note)

        self._submit(reply_to, stop)

    def list_watches(self, *, requester: Requester, reply_to: ReplyTarget) -> None:
        """`/esign-flow watching`: the flows watched in this channel, and the person's own."""

        def answer() -> None:
            watches = (
                self._watches.listed(channel_id=reply_to.channel_id, user_id=requester.user_id)
                if self._watches is not None
                else []
            )
            entries = [(w.flow_id, w.user_id, w.private) for w in watches]
            self._respond(reply_to, render_watch_list(entries, self._language(requester.user_id)))

        self._submit(reply_to, answer)

    # ------------------------------------------------------------------ the modal

    def open_modal(self, trigger_id: str | None, *, user_id: str | None) -> bool:
        """Open the "check a flow" form right after the ack (the trigger lives 3 s), off the
        request thread; False when there is no trigger to open it with."""
        if trigger_id is None:
            log.warning("no trigger_id to open the modal with")
            return False

        def open_form() -> None:
            view = render_check_modal(self._language(user_id), max_ids=self._max_ids)
            self._replies.views_open(trigger_id, view)

        return self._open_view(open_form)

    def open_note(self, trigger_id: str | None, note: Note, *, user_id: str | None = None) -> bool:
        """A note in a modal, for a door with no reply address but a trigger (⚡, Home)."""
        if trigger_id is None:
            return False

        def open_view() -> None:
            language = self._language(user_id)
            self._replies.views_open(trigger_id, render_modal_note(note(language), language))

        return self._open_view(open_view)

    def _open_view(self, job: Callable[[], object]) -> bool:
        # One thread serves every ack (bot/app/web/server.py): a Web API call made on it would
        # hold up every ack behind it.
        if self._views.submit(job):
            return True
        log.warning("views.open not sent while shutting down")
        return False

    def cached_modal(
        self, flow_ids: Sequence[str], *, requester: Requester, reply_to: ReplyTarget
    ) -> dict[str, Any] | None:
        """The modal with every card in it when all flows are cached here (the submission's ack
        can show them, with no e签宝 call and no later update); None otherwise."""
        outcomes: list[LookupOutcome] = []
        for flow_id in flow_ids:
            outcome = self._cards.cached(flow_id, requester=requester, trigger="modal")
            if outcome is None:
                return None
            outcomes.append(outcome)
        if reply_to.response_url is not None:
            self._submit(
                reply_to,
                lambda: self._post_picked(outcomes, requester=requester, reply_to=reply_to),
            )
        return self._modal_view(flow_ids, outcomes, requester=requester, reply_to=reply_to)

    def modal_cards(
        self, flow_ids: Sequence[str], *, requester: Requester, reply_to: ReplyTarget
    ) -> None:
        """Look the flows up after the ack, then put the cards in the modal (views.update by
        view id) and, when a conversation was picked, post them there for everyone."""
        view = reply_to.view

        def deliver() -> None:
            outcomes = [
                self._cards.look_up(flow_id, requester=requester, trigger="modal")
                for flow_id in flow_ids
            ]
            # The person watching the modal first; then the conversation they picked.
            if view is not None:
                modal = self._modal_view(flow_ids, outcomes, requester=requester, reply_to=reply_to)
                self._replies.views_update(view.view_id, modal)
            self._post_picked(outcomes, requester=requester, reply_to=reply_to)

        self._submit(reply_to, deliver)

    def _recheck_modal(self, flow_id: str, requester: Requester, view: ViewRef) -> None:
        flow_ids = list(view.flow_ids) or [flow_id]

        def refresh() -> None:
            outcomes = []
            for shown in flow_ids:
                outcome = (
                    self._cards.look_up(shown, requester=requester, trigger="recheck")
                    if shown == flow_id
                    # The other cards are redrawn from the cache when it has them.
                    else self._cards.cached(shown, requester=requester, trigger="modal")
                    or self._cards.look_up(shown, requester=requester, trigger="modal")
                )
                outcomes.append(outcome)
            modal = self._modal_view(flow_ids, outcomes, requester=requester, reply_to=None)
            result = self._replies.views_update(view.view_id, modal, hash=view.hash)
            if not result.ok:
                log.info("modal not rechecked", extra={"error": result.error})

        self._submit(ReplyTarget(), refresh)

    def _modal_view(
        self,
        flow_ids: Sequence[str],
        outcomes: Sequence[LookupOutcome],
        *,
        requester: Requester,
        reply_to: ReplyTarget | None,
    ) -> dict[str, Any]:
        language = self._language(requester.user_id)
        cards = [
            # A watch lives on a message; a modal has none to edit or thread under.
            self._cards.render(
                outcome, ephemeral=False, offer_share=False, offer_watch=False, language=language
            )
            for outcome in outcomes
        ]
        posted_to = reply_to.channel_id if reply_to and reply_to.response_url else None
        return render_modal_cards(flow_ids, cards, posted_to=posted_to, language=language)

    def _post_picked(
        self, outcomes: Sequence[LookupOutcome], *, requester: Requester, reply_to: ReplyTarget
    ) -> None:
        """The cards for the conversation picked in the modal: bilingual, naming who asked."""
        if reply_to.response_url is None:
            return
        for outcome in outcomes:
            card = self._cards.render(outcome, ephemeral=False, requested_by=requester.user_id)
            self._replies.respond(reply_to.response_url, card.to_message(), in_channel=True)

    # ------------------------------------------------------------------ internals

    def _language(self, user_id: str | None) -> Language:
        """The person's language; may ask the store or Slack, so only after the ack."""
        return self._languages.language(user_id)

    def _watching(
        self,
        flow_id: str,
        requester: Requester,
        reply_to: ReplyTarget,
        requested_by: str | None,
    ) -> Watching | None:
        """Who watches this card's flow, so a rechecked card keeps saying so (and its Unwatch)."""
        place = place_of(flow_id, requester, reply_to, requested_by=requested_by)
        if place is None or self._watches is None:
            return None
        watch = self._watches.get(place.watch_id)
        return None if watch is None else Watching(watch.user_id, by_dm=watch.private)

    def _respond(self, reply_to: ReplyTarget, card: Card, *, replace: bool | None = None) -> None:
        """Answer privately; a private card acted on is replaced instead of answered below."""
        replace = reply_to.ephemeral if replace is None else replace
        self._replies.respond(
            reply_to.response_url,
            card.to_message(),
            replace_original=replace,
            thread_ts=None if replace else reply_to.thread_ts,
        )

    def _submit(self, reply_to: ReplyTarget, job: Callable[[], object]) -> None:
        if self._work.submit(job):
            return
        # Shutting down: the request was acked, so say so rather than leave the person waiting.
        log.warning("work refused while shutting down; told the person to try again")
        self._replies.respond(
            reply_to.response_url,
            render_notice(Notice.RESTARTING).to_message(),
            thread_ts=reply_to.thread_ts,
        )
