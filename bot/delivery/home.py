"""The Home tab door: each person's recent lookups, language and watches, drawn and published
after the ack, on the background pool (the records come from bot.state.history).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.cards.home import render_home
from bot.delivery.background import BackgroundWork
from bot.delivery.flow_cards import FlowCards
from bot.delivery.watches import SlackWatchNotifier
from bot.language import Language
from bot.slack.replies import SlackReplies
from bot.slack.requester import Requester
from bot.state.digest_records import DigestSetting
from bot.state.history import PersonalHistory
from bot.state.records import StoreUnavailable
from bot.watch.service import WatchService

log = logging.getLogger(__name__)


class HomeTab:
    """Publishes a person's Home tab (views.publish), always from the records as they are now."""

    def __init__(
        self,
        history: PersonalHistory,
        cards: FlowCards,
        replies: SlackReplies,
        work: BackgroundWork,
        watches: WatchService | None = None,
        notifier: SlackWatchNotifier | None = None,
        digests_of: Callable[[str], list[DigestSetting]] | None = None,
    ) -> None:
        self._history = history
        self._cards = cards
        self._replies = replies
        self._work = work
        self._watches = watches
        self._notifier = notifier
        self._digests_of = digests_of

    def language(self, user_id: str | None) -> Language:
        return self._history.language(user_id)

    def opened(self, user_id: str | None) -> None:
        self._later(user_id, lambda: None)

    def recheck(self, flow_id: str, requester: Requester) -> None:
        """Look the flow up again (its entry moves to the top with the new status), redraw."""
        self._later(
            requester.user_id,
            lambda: self._cards.look_up(flow_id, requester=requester, trigger="home_recheck"),
        )

    def unwatch(self, flow_id: str, requester: Requester, thread_ts: str | None) -> None:
        """Unwatch from the Home tab: the watch stops, its posted card offers Watch again, and
        the tab is redrawn without it."""
        user_id = requester.user_id
        if user_id is None or self._watches is None:
            return
        watches, notifier = self._watches, self._notifier

        def stop() -> None:
            stopped = watches.stop_mine(flow_id, user_id=user_id, thread_ts=thread_ts)
            if stopped is not None and notifier is not None:
                notifier.restore(stopped)

        self._later(user_id, stop)

    def clear(self, user_id: str | None) -> None:
        if user_id is not None:
            self._later(user_id, lambda: self._history.clear(user_id))

    def choose_language(self, user_id: str | None, language: Language) -> None:
        if user_id is not None:
            self._later(user_id, lambda: self._history.set_language(user_id, language))

    def publish(self, user_id: str) -> bool:
        view = render_home(
            self._history.recent(user_id),
            self._history.watches(user_id),
            language=self._history.language(user_id),
            digests=self._digests(user_id),
        )
        return self._replies.views_publish(user_id, view).ok

    def _digests(self, user_id: str) -> list[DigestSetting] | None:
        """The digests the person set; None when the store cannot say just now."""
        if self._digests_of is None:
            return []
        try:
            return self._digests_of(user_id)
        except StoreUnavailable:
            return None

    def _later(self, user_id: str | None, change: Callable[[], object]) -> None:
        if user_id is None:
            return

        def job() -> None:
            change()
            self.publish(user_id)

        if not self._work.submit(job):
            log.warning("Home tab not published while shutting down")
