"""The messages door: the slash command's cards, the message shortcut's and Share's posted
cards, Recheck in place, and notes only the person sees.

A public answer is posted to the channel or thread, naming who asked; when Slack refuses, the
person gets the card privately with a note saying why and what would help.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bot.cards import Card, Note, PublicAnswer, Watching, render_not_posted
from bot.delivery.answering import Answering, LanguageOf
from bot.delivery.background import BackgroundWork
from bot.delivery.channel_memory import ChannelMemory
from bot.delivery.flow_cards import FlowCards
from bot.delivery.modal import ModalDelivery
from bot.language import Language
from bot.slack.replies import SlackReplies
from bot.slack.reply_target import ReplyTarget
from bot.slack.requester import Requester
from bot.watch.service import WatchService, place_of


class MessageDelivery(Answering):
    def __init__(
        self,
        cards: FlowCards,
        replies: SlackReplies,
        work: BackgroundWork,
        *,
        modal: ModalDelivery,
        watches: WatchService | None = None,
        languages: LanguageOf | None = None,
        memory: ChannelMemory | None = None,
    ) -> None:
        super().__init__(cards, replies, work, languages=languages)
        self._modal = modal
        self._watches = watches
        self._memory = memory

    def tell(self, reply_to: ReplyTarget, note: Note, *, user_id: str | None = None) -> None:
        """A note only the person sees, in their language, sent after the ack (below a card
        acted on, not over it)."""
        self.submit(
            reply_to,
            lambda: self.respond(reply_to, note(self.language(user_id)), replace=False),
        )

    def ack_language(self, user_id: str | None) -> Language:
        """The language for words an ack carries: the person's when this process knows it
        without asking anyone, else both (and it is looked up now, for their next answer)."""
        known = self._languages.known_language(user_id)
        if known is not None:
            return known
        self._work.submit(lambda: self.language(user_id))
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
                    language=self.language(requester.user_id),
                )
                self.respond(reply_to, card)

            self.submit(reply_to, deliver)
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
                    if self._memory is not None:
                        # The channel saw it: the daily digest lists it.
                        self._memory.shown(channel, [flow_id], reply_to.thread_ts or posted.ts)
                    if reply_to.ephemeral:
                        self._replies.respond(reply_to.response_url, {}, delete_original=True)
                    return
                language = self.language(requester.user_id)
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
                self.respond(reply_to, note.followed_by(private))

            self.submit(reply_to, deliver)

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
            self._modal.recheck(flow_id, requester, reply_to.view)
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
                language=(self.language(requester.user_id) if reply_to.ephemeral else "both"),
                watching=self._watching(flow_id, requester, reply_to, requested_by),
            )
            target = reply_to.posted_message
            if target is not None and self._replies.update(*target, card.to_message()).ok:
                return
            # Ephemeral cards can only be changed through the click's own response_url.
            self.respond(reply_to, card, replace=True)

        self.submit(reply_to, refresh)

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
