"""What every door shares: a private answer sent after the ack, in the reader's language.

Private answers go to the payload's response_url; a private card acted on (Recheck, Share) is
replaced rather than answered twice. Nothing here raises into a listener: BackgroundWork logs a
failed job, and a job it cannot take (shutting down) is never dropped silently: the person is
told to try again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from bot.cards import Card, Notice, render_notice
from bot.delivery.background import BackgroundWork
from bot.delivery.flow_cards import FlowCards
from bot.language import Language
from bot.slack.replies import SlackReplies
from bot.slack.reply_target import ReplyTarget
from bot.slack.requester import Requester
from bot.state.records import StoreUnavailable

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


class Answering:
    def __init__(
        self,
        cards: FlowCards,
        replies: SlackReplies,
        work: BackgroundWork,
        *,
        languages: LanguageOf | None = None,
    ) -> None:
        self._cards = cards
        self._replies = replies
        self._work = work
        self._languages = languages or _Bilingual()

    def language(self, user_id: str | None) -> Language:
        """The person's language; may ask the store or Slack, so only after the ack."""
        return self._languages.language(user_id)

    def respond(self, reply_to: ReplyTarget, card: Card, *, replace: bool | None = None) -> None:
        """Answer privately; a private card acted on is replaced instead of answered below."""
        replace = reply_to.ephemeral if replace is None else replace
        self._replies.respond(
            reply_to.response_url,
            card.to_message(),
            replace_original=replace,
            thread_ts=None if replace else reply_to.thread_ts,
        )

    def submit(self, reply_to: ReplyTarget, job: Callable[[], object]) -> None:
        if self._work.submit(job):
            return
        # Shutting down: the request was acked, so say so rather than leave the person waiting.
        log.warning("work refused while shutting down; told the person to try again")
        self._replies.respond(
            reply_to.response_url,
            render_notice(Notice.RESTARTING).to_message(),
            thread_ts=reply_to.thread_ts,
        )

    def channel_setting(
        self,
        reply_to: ReplyTarget,
        requester: Requester,
        change: Callable[[str, str, Language], Card],
        *,
        not_here: Callable[[Language], Card],
        not_saved: Callable[[Language], Card],
    ) -> None:
        """A channel's setting read or changed by a person (`change(channel, user, language)`),
        answered privately after the ack: only in a channel, and plainly when the store cannot
        keep it."""

        def answer() -> None:
            language = self.language(requester.user_id)
            channel = reply_to.channel_id
            if channel is None or reply_to.direct_message or requester.user_id is None:
                self.respond(reply_to, not_here(language))
                return
            try:
                card = change(channel, requester.user_id, language)
            except StoreUnavailable as exc:
                log.warning("a channel setting was not changed", extra={"error": str(exc)})
                card = not_saved(language)
            self.respond(reply_to, card)

        self.submit(reply_to, answer)
