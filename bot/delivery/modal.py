"""The modal door: the "check a flow" form (⚡ shortcut, Home), its cards in the modal and in
the conversation picked, Recheck inside the modal, and notes shown in a modal.

views.open runs on a pool of its own, right after the ack: its trigger dies 3 s after the
click, so it must never queue behind lookups waiting on e签宝.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from bot.cards import Note
from bot.cards.modal import render_check_modal, render_modal_cards, render_modal_note
from bot.delivery.answering import Answering, LanguageOf
from bot.delivery.background import BackgroundWork
from bot.delivery.flow_cards import FlowCards, LookupOutcome
from bot.slack.replies import SlackReplies
from bot.slack.reply_target import ReplyTarget, ViewRef
from bot.slack.requester import Requester

log = logging.getLogger(__name__)


class ModalDelivery(Answering):
    def __init__(
        self,
        cards: FlowCards,
        replies: SlackReplies,
        work: BackgroundWork,
        *,
        views: BackgroundWork | None = None,
        languages: LanguageOf | None = None,
        max_ids: int = 5,
    ) -> None:
        """`views`: the pool for views.open (default: `work`)."""
        super().__init__(cards, replies, work, languages=languages)
        self._views = views or work
        self._max_ids = max_ids

    def open_modal(self, trigger_id: str | None, *, user_id: str | None) -> bool:
        """Open the "check a flow" form right after the ack (the trigger lives 3 s), off the
        request thread; False when there is no trigger to open it with."""
        if trigger_id is None:
            log.warning("no trigger_id to open the modal with")
            return False

        def open_form() -> None:
            view = render_check_modal(self.language(user_id), max_ids=self._max_ids)
            self._replies.views_open(trigger_id, view)

        return self._open_view(open_form)

    def open_note(self, trigger_id: str | None, note: Note, *, user_id: str | None = None) -> bool:
        """A note in a modal, for a door with no reply address but a trigger (⚡, Home)."""
        if trigger_id is None:
            return False

        def open_view() -> None:
            language = self.language(user_id)
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
            self.submit(
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

        self.submit(reply_to, deliver)

    def recheck(self, flow_id: str, requester: Requester, view: ViewRef) -> None:
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

        self.submit(ReplyTarget(), refresh)

    def _modal_view(
        self,
        flow_ids: Sequence[str],
        outcomes: Sequence[LookupOutcome],
        *,
        requester: Requester,
        reply_to: ReplyTarget | None,
    ) -> dict[str, Any]:
        language = self.language(requester.user_id)
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
