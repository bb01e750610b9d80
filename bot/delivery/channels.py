"""The channels door: a channel's messages naming flow ids answered in their thread, links to
flows unfurled, and the per-channel setting that turns the answers on.

Quiet by design. A message is answered only in a channel where someone turned answers on, once
per flow and thread every 30 minutes (claimed in the state store, so two processes answer once),
in its thread and never broadcast, and only with flows e签宝 knows: a number that merely looks
like a flow id never makes the bot say "not found" in a busy channel. Nothing is posted before
the answer is known, so there is no "looking up…" message to take back. A link unfurls when it
matches one of the company's URL templates, from a 30-minute memory per channel and flow.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final, Literal

from cachetools import TTLCache

from bot.cards import Card
from bot.cards.channel_answer import AnsweredFlow, render_channel_answer, render_more_named
from bot.cards.channel_auto import AutoChange, render_auto_change, render_auto_status
from bot.cards.unfurl import render_unfurl
from bot.delivery.answering import Answering, LanguageOf
from bot.delivery.background import BackgroundWork
from bot.delivery.channel_memory import ChannelMemory
from bot.delivery.flow_cards import FlowCards, LookupOutcome
from bot.delivery.watches import WatchDelivery
from bot.flows.links import FlowLinks
from bot.language import Language
from bot.slack.replies import SlackReplies
from bot.slack.reply_target import ReplyTarget
from bot.slack.requester import Requester
from bot.state.event_receipts import EventReceipts
from bot.state.records import ChannelAuto, StateStore, StoreUnavailable

log = logging.getLogger(__name__)

#: Most flows one automatic answer shows; more named get a line saying how many.
MAX_IDS_PER_ANSWER: Final = 5
#: A flow answered in a thread (or unfurled in a channel) is not shown there again this soon.
REMEMBER_SECONDS: Final = 30 * 60.0
#: Most links of one message unfurled (Slack sends at most a handful per event).
MAX_LINKS: Final = 5
AutoVerb = Literal["on", "off"] | None


@dataclass(frozen=True, slots=True)
class ChannelMessage:
    """A message posted in a channel the bot is in, as the message event tells it."""

    channel_id: str | None
    user_id: str | None
    ts: str | None
    #: The thread it was posted in; None at the top level.
    thread_ts: str | None
    #: The flow ids it names (the message shortcut's rule), at most MAX_IDS_PER_ANSWER.
    flow_ids: tuple[str, ...] = ()
    #: Ids named past the cap.
    more: int = 0
    #: False for a bot's message (this bot's included) or one with a subtype (edits, joins…).
    from_person: bool = True
    #: The delivery's event_id: claimed with the answer's work, so a retry answers nothing.
    event_id: str | None = None
    #: The links in the message, and the flow ids it names outside them: a flow named only
    #: by a link that unfurls gets its unfurl, not an answer in the thread as well.
    links: tuple[str, ...] = ()
    named_outside_links: tuple[str, ...] = ()

    @property
    def answerable(self) -> bool:
        """Worth anything at all: a person's message naming a flow, somewhere to answer."""
        return self.from_person and bool(self.flow_ids) and bool(self.channel_id and self.ts)

    @property
    def reply_thread(self) -> str | None:
        """The thread the answer goes in: the message's own, or the message itself."""
        return self.thread_ts or self.ts


@dataclass(frozen=True, slots=True)
class SharedLinks:
    """A link_shared event: links in a posted message (`channel` + `message_ts`) or still in
    the composer (`unfurl_id` + `source`)."""

    channel_id: str | None
    message_ts: str | None
    thread_ts: str | None
    unfurl_id: str | None
    source: str | None
    urls: tuple[str, ...] = ()

    @property
    def in_composer(self) -> bool:
        return self.source == "composer"


@dataclass(frozen=True, slots=True)
class AnswerShown:
    """The flows an automatic answer holding several shows (read from its blocks on a click),
    and how many more its message named: a Recheck redraws all of them."""

    flow_ids: tuple[str, ...]
    more: int = 0


class ChannelDelivery(Answering):
    def __init__(
        self,
        cards: FlowCards,
        replies: SlackReplies,
        work: BackgroundWork,
        store: StateStore,
        *,
        links: FlowLinks | None = None,
        watches: WatchDelivery | None = None,
        languages: LanguageOf | None = None,
        receipts: EventReceipts | None = None,
        memory: ChannelMemory | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(cards, replies, work, languages=languages)
        self._store = store
        self._receipts = receipts
        self._links = links or FlowLinks()
        self._watches = watches
        self._clock = clock
        # When the store cannot answer, this process still never answers a thread twice.
        self._claimed: TTLCache[str, bool] = TTLCache(maxsize=10_000, ttl=REMEMBER_SECONDS)
        self._lock = threading.Lock()
        #: Where answers and unfurls posted in a channel are remembered (its daily digest).
        self._memory = memory

    # ------------------------------------------------------------------ the setting

    def auto_setting(self, verb: AutoVerb, *, requester: Requester, reply_to: ReplyTarget) -> None:
        """`/esign-flow auto on|off` (or `auto`: the setting), answered privately after the ack."""
        self.channel_setting(
            reply_to,
            requester,
            lambda channel, user_id, language: self._change_setting(
                verb, channel, user_id, language
            ),
            not_here=lambda language: render_auto_change(AutoChange.NO_CHANNEL, language),
            not_saved=lambda language: render_auto_change(AutoChange.NOT_SAVED, language),
        )

    def _change_setting(
        self, verb: AutoVerb, channel: str, user_id: str, language: Language
    ) -> Card:
        current = self._store.channel_auto(channel)
        if verb is None:
            return render_auto_status(current, language)
        if verb == "on":
            if current is not None:
                return render_auto_change(AutoChange.ALREADY_ON, language)
            self._store.set_channel_auto(ChannelAuto(channel, user_id, self._clock()))
            log.info("automatic answers turned on", extra={"channel": channel, "user": user_id})
            return render_auto_change(AutoChange.TURNED_ON, language)
        if not self._store.clear_channel_auto(channel):
            return render_auto_change(AutoChange.ALREADY_OFF, language)
        log.info("automatic answers turned off", extra={"channel": channel, "user": user_id})
        return render_auto_change(AutoChange.TURNED_OFF, language)

    # ------------------------------------------------------------------ automatic answers

    def answer(self, message: ChannelMessage, requester: Requester) -> None:
        """Answer a message naming flow ids in its thread, when the channel asked for it.
        The caller has checked `message.answerable` (before any store read or call)."""
        if not message.answerable:
            return
        self._work.submit(lambda: self._answer(message, requester))

    def _answer(self, message: ChannelMessage, requester: Requester) -> None:
        channel, thread = message.channel_id, message.reply_thread
        assert channel is not None and thread is not None  # noqa: S101 (answerable says so)
        if self._receipts is not None and not self._receipts.first_delivery(message.event_id):
            log.info("dropped a message event delivered again")
            return
        try:
            if self._store.channel_auto(channel) is None:
                return
        except StoreUnavailable as exc:
            # Unknown is not "on": better silent than answering a channel that turned it off.
            log.warning("channel setting unreadable; not answering", extra={"error": str(exc)})
            return
        unfurled = {self._links.flow_id(url) for url in message.links[:MAX_LINKS]}
        wanted = [
            f for f in message.flow_ids if f in message.named_outside_links or f not in unfurled
        ]
        if not wanted:
            return
        # Nobody asked: the audit line has the channel, the person's Home tab stays theirs.
        quiet = replace(requester, user_id=None)
        outcomes = [self._cards.look_up(f, requester=quiet, trigger="auto") for f in wanted]
        # Claimed only once known: a flow e签宝 could not tell about just now is answered when
        # named again, not silenced for the thread's 30 minutes.
        known = [
            o
            for o in outcomes
            if o.snapshot is not None and self._first_in_thread(channel, thread, o.flow_id)
        ]
        if not known:
            return
        answered = {o.flow_id for o in known}
        shown = [
            o for o in outcomes if o.flow_id in answered or (o.snapshot is None and _passing(o))
        ]
        card = self._answer_card(shown, more=message.more, thread_ts=thread)
        posted = self._replies.post(channel, card.to_message(), thread_ts=thread)
        if posted.ok:
            self._shown_in_channel(channel, [o.flow_id for o in known], thread)

    def _answer_card(self, outcomes: Sequence[LookupOutcome], *, more: int, thread_ts: str) -> Card:
        if len(outcomes) == 1:
            # One flow: the message shortcut's own card, so its buttons work as there.
            card = self._cards.render(outcomes[0], ephemeral=False, thread_ts=thread_ts)
            more_card = render_more_named(more)
            return card if more_card is None else card.followed_by(more_card)
        flows = [AnsweredFlow(o.flow_id, o.snapshot, o.error) for o in outcomes]
        return render_channel_answer(flows, more=more, thread_ts=thread_ts)

    def _first_in_thread(self, channel: str, thread: str, flow_id: str) -> bool:
        """True for the one process that answers this flow in this thread now."""
        key = f"answered:{channel}:{thread}:{flow_id}"
        try:
            return self._store.claim_notice(key, REMEMBER_SECONDS)
        except StoreUnavailable as exc:
            log.warning("thread memory falls back to this process", extra={"error": str(exc)})
        with self._lock:
            if key in self._claimed:
                return False
            self._claimed[key] = True
            return True

    def recheck_answer(
        self, shown: AnswerShown, *, requester: Requester, reply_to: ReplyTarget
    ) -> None:
        """Recheck on an answer holding several flows: the whole answer is redrawn in place."""
        target = reply_to.posted_message
        if target is None:
            return

        def redraw() -> None:
            outcomes = [
                self._cards.look_up(f, requester=requester, trigger="recheck")
                for f in shown.flow_ids
            ]
            flows = [AnsweredFlow(o.flow_id, o.snapshot, o.error) for o in outcomes]
            card = render_channel_answer(flows, more=shown.more, thread_ts=reply_to.thread_ts)
            self._replies.update(*target, card.to_message())

        self.submit(reply_to, redraw)

    def watch_from_answer(
        self, flow_id: str, *, requester: Requester, reply_to: ReplyTarget
    ) -> None:
        """Watch on one flow of an answer holding several: the flow's own card goes into the
        thread and is watched there, as a shortcut's card is (edited in place as it moves),
        while the answer stays as it is."""
        channel = reply_to.channel_id
        if channel is None or self._watches is None:
            return
        watches = self._watches

        def start() -> None:
            card = self._cards.card(
                flow_id,
                requester=requester,
                trigger="watch",
                ephemeral=False,
                thread_ts=reply_to.thread_ts,
                requested_by=requester.user_id,
            )
            posted = self._replies.post(channel, card.to_message(), thread_ts=reply_to.thread_ts)
            if not posted.ok or posted.ts is None:
                return
            on_card = replace(reply_to, message_ts=posted.ts, ephemeral=False)
            watches.watch(
                flow_id, requester=requester, reply_to=on_card, requested_by=requester.user_id
            )

        self.submit(reply_to, start)

    # ------------------------------------------------------------------ link unfurls

    def flow_links(self, links: SharedLinks) -> list[tuple[str, str]]:
        """(url, flow id) of each link that points to a flow; cheap, so it is asked first."""
        found: dict[str, str] = {}
        for url in links.urls:
            flow_id = self._links.flow_id(url)
            if flow_id is not None and url not in found:
                found[url] = flow_id
        return list(found.items())[:MAX_LINKS]

    def unfurl(self, links: SharedLinks, requester: Requester) -> None:
        """chat.unfurl for the links that point to flows; nothing for the others."""
        pairs = self.flow_links(links)
        if not pairs:
            return
        self._work.submit(lambda: self._unfurl(links, pairs, requester))

    def _unfurl(self, links: SharedLinks, pairs: list[tuple[str, str]], who: Requester) -> None:
        place = links.channel_id or "composer"
        unfurls: dict[str, dict[str, Any]] = {}
        flows: list[str] = []
        for url, flow_id in pairs:
            rendered = self._kept_unfurl(place, flow_id)
            if rendered is None:
                outcome = self._cards.look_up(
                    flow_id, requester=replace(who, user_id=None), trigger="unfurl"
                )
                if outcome.snapshot is None:
                    continue  # unknown or failing: no unfurl says "not found" under a message
                rendered = render_unfurl(outcome.snapshot)
                self._keep_unfurl(place, flow_id, rendered)
            unfurls[url] = rendered
            flows.append(flow_id)
        if not unfurls:
            return
        if links.in_composer or not (links.channel_id and links.message_ts):
            done = self._replies.unfurl(unfurls, unfurl_id=links.unfurl_id, source=links.source)
        else:
            done = self._replies.unfurl(unfurls, channel=links.channel_id, ts=links.message_ts)
        if done.ok and not links.in_composer and links.channel_id:
            # A top-level message is its own thread: the digest links to it.
            self._shown_in_channel(links.channel_id, flows, links.thread_ts or links.message_ts)

    def _kept_unfurl(self, place: str, flow_id: str) -> dict[str, Any] | None:
        try:
            raw = self._store.kept_unfurl(f"{place}:{flow_id}")
        except StoreUnavailable:
            return None
        try:
            kept = json.loads(raw) if raw is not None else None
        except ValueError:
            return None
        return kept if isinstance(kept, dict) else None

    def _keep_unfurl(self, place: str, flow_id: str, rendered: dict[str, Any]) -> None:
        try:
            self._store.keep_unfurl(
                f"{place}:{flow_id}", json.dumps(rendered, ensure_ascii=False), REMEMBER_SECONDS
            )
        except StoreUnavailable as exc:
            log.warning("unfurl not kept", extra={"error": str(exc)})

    # ------------------------------------------------------------------ what a channel saw

    def _shown_in_channel(
        self, channel_id: str, flow_ids: Sequence[str], thread_ts: str | None
    ) -> None:
        """Called after an automatic answer or an unfurl is posted: the flows this channel has
        been shown, which its daily digest lists."""
        if self._memory is not None:
            self._memory.shown(channel_id, flow_ids, thread_ts)


def _passing(outcome: LookupOutcome) -> bool:
    """A failure that may pass (a timeout, a rate limit): worth a line among known flows."""
    return outcome.error is not None and outcome.error.transient
