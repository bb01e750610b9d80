"""The digest door: `/esign-flow digest HH:MM | off | (status)`, Recheck on a digest, and the
daily digest itself (what the scheduler in bot.watch.digest_scheduler asks to be posted).

A digest lists the flows shown visibly in the channel in the last 24 hours (bot.delivery.
channel_memory) and the channel's posted watches, each looked up again through the cache. The
lookups a cached answer cannot spare wait for the watch polls' share of ESIGN_MAX_QPS (the same
pacer), so a large digest never takes the budget people's own lookups use.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Final

from bot.cards import Card
from bot.cards.digest import (
    MAX_OPEN_SHOWN,
    DigestEntry,
    render_digest,
    render_digest_bad_time,
    render_digest_not_here,
    render_digest_off,
    render_digest_set,
    render_digest_status,
    render_digest_unavailable,
)
from bot.delivery.answering import Answering, LanguageOf
from bot.delivery.background import BackgroundWork
from bot.delivery.flow_cards import FlowCards
from bot.esign.errors import EsignError, FlowNotFound, RateLimited
from bot.esign.rate_limit import CallPacer
from bot.flows.cache import FlowLookup
from bot.flows.changes import is_final
from bot.flows.snapshot import FlowSnapshot
from bot.language import Language
from bot.slack.replies import SlackReplies
from bot.slack.reply_target import ReplyTarget
from bot.slack.requester import Requester
from bot.state.digest_records import DigestSetting
from bot.state.records import StateStore, StoreUnavailable
from bot.watch.digest_schedule import known_zone, next_due, parse_clock_time

log = logging.getLogger(__name__)

#: How far back a digest looks for flows shown in the channel.
LOOK_BACK: Final = timedelta(hours=24)
#: Longest one lookup waits for room in the polls' share before it is left out ("could not
#: be looked up just now").
BUDGET_WAIT_SECONDS: Final = 30.0
#: A store away for a moment (a Redis failover takes seconds) is waited out this long.
COMPOSE_ATTEMPTS: Final = 4
COMPOSE_RETRY_SECONDS: Final = 5.0
OFF_WORDS: Final = frozenset({"off", "stop", "none", "关闭", "停止"})


class DigestDelivery(Answering):
    def __init__(
        self,
        cards: FlowCards,
        replies: SlackReplies,
        work: BackgroundWork,
        *,
        store: StateStore,
        lookup: FlowLookup,
        pacer: CallPacer,
        time_zone_of: Callable[[str], str | None],
        clock: Callable[[], float] = time.time,
        languages: LanguageOf | None = None,
    ) -> None:
        super().__init__(cards, replies, work, languages=languages)
        self._store = store
        self._lookup = lookup
        self._pacer = pacer
        self._time_zone_of = time_zone_of
        self._clock = clock

    # ------------------------------------------------------------------ the command

    def command_refusal(self, argument: str, language: Language) -> Card | None:
        """What the ack says at once when the argument cannot be a digest setting (nothing is
        changed), else None and `command` does the rest after the ack."""
        word = argument.strip().lower()
        if word and word not in OFF_WORDS and parse_clock_time(argument) is None:
            return render_digest_bad_time(argument.strip(), language=language)
        return None

    def command(self, argument: str, *, requester: Requester, reply_to: ReplyTarget) -> None:
        """`digest HH:MM` sets, `digest off` stops, `digest` says what is set (privately)."""
        self.channel_setting(
            reply_to,
            requester,
            lambda channel, _user, language: self._change(argument, channel, requester, language),
            not_here=lambda language: render_digest_not_here(language=language),
            not_saved=lambda language: render_digest_unavailable(language=language),
        )

    def _change(
        self, argument: str, channel: str, requester: Requester, language: Language
    ) -> Card:
        word = argument.strip().lower()
        if not word:
            setting = self._store.get_digest(channel)
            if setting is None:
                return render_digest_status(hour=None, set_by=None, language=language)
            return render_digest_status(
                hour=setting.hour,
                minute=setting.minute,
                tz=setting.tz,
                set_by=setting.user_id,
                language=language,
            )
        if word in OFF_WORDS:
            return render_digest_off(was_set=self._store.remove_digest(channel), language=language)
        parsed = parse_clock_time(argument)
        if parsed is None:
            return render_digest_bad_time(argument.strip(), language=language)
        assert requester.user_id is not None  # noqa: S101 (checked by the caller)
        now = self._clock()
        told = self._time_zone_of(requester.user_id)
        setting = DigestSetting(
            channel_id=channel,
            team_id=requester.team_id,
            user_id=requester.user_id,
            hour=parsed[0],
            minute=parsed[1],
            tz=known_zone(told),
            set_at=now,
        )
        old = self._store.get_digest(channel)
        if old is not None:
            # A new time keeps the last digest's time: "finished since the last digest".
            setting = dataclasses.replace(setting, last_sent_at=old.last_sent_at)
        self._store.put_digest(setting)
        return render_digest_set(
            hour=setting.hour,
            minute=setting.minute,
            tz=setting.tz,
            first_at=next_due(setting, datetime.fromtimestamp(now, UTC)),
            language=language,
            zone_unknown=setting.tz != told,
        )

    def recheck(self, flow_id: str, *, requester: Requester, reply_to: ReplyTarget) -> None:
        """Recheck on a digest: the flow's fresh card for the person who pressed it (the digest
        stays as posted, a record of the morning)."""

        def answer() -> None:
            card = self._cards.card(
                flow_id,
                requester=requester,
                trigger="digest_recheck",
                ephemeral=True,
                thread_ts=reply_to.thread_ts,
                offer_share=reply_to.can_share,
                language=self.language(requester.user_id),
            )
            # Shown where the person pressed it (the digest is top-level); the card's own Share
            # posts into the thread where the flow was discussed.
            self.respond(dataclasses.replace(reply_to, thread_ts=None), card, replace=False)

        self.submit(reply_to, answer)

    # ------------------------------------------------------------------ the digest

    def post_digest(self, setting: DigestSetting, due_at: datetime) -> bool:
        """Compose the channel's digest and post it at the top of the channel; whether posted.
        Nothing to list, nothing posted."""
        now = datetime.fromtimestamp(self._clock(), UTC)
        card = self._compose_despite_blips(setting, now)
        posted = False
        if card is not None:
            result = self._replies.post(setting.channel_id, card.to_message())
            posted = result.ok
            if not result.ok:
                log.warning(
                    "daily digest not posted",
                    extra={"channel": setting.channel_id, "error": result.error},
                )
        try:
            # As it is now: the time may have been changed (or the digest stopped) meanwhile.
            current = self._store.get_digest(setting.channel_id)
            if current is not None:
                self._store.update_digest(
                    dataclasses.replace(current, last_sent_at=now.timestamp())
                )
        except StoreUnavailable as exc:
            # Posted all the same; tomorrow's "finished" list may repeat today's.
            log.warning("the digest's time was not recorded", extra={"error": str(exc)})
        return posted

    def _compose_despite_blips(self, setting: DigestSetting, now: datetime) -> Card | None:
        """The day is claimed already: a store that is away for a moment must not lose it."""
        for attempt in range(1, COMPOSE_ATTEMPTS + 1):
            try:
                return self.compose(setting, now)
            except StoreUnavailable:
                if attempt == COMPOSE_ATTEMPTS:
                    raise
                time.sleep(COMPOSE_RETRY_SECONDS)
        return None

    def compose(self, setting: DigestSetting, now: datetime) -> Card | None:
        channel = setting.channel_id
        since = (now - LOOK_BACK).timestamp()
        # flow -> (thread, when shown); the most recent showing wins.
        listed: dict[str, tuple[str | None, float]] = {}
        for shown in self._store.shown_since(channel, since):
            listed.setdefault(shown.flow_id, (shown.thread_ts, shown.shown_at))
        for watch in self._store.watches_in_channel(channel):
            if not watch.private and watch.card_channel == channel:
                listed.setdefault(
                    watch.flow_id, (watch.thread_ts or watch.card_ts, watch.started_at)
                )
        finished_after = setting.last_sent_at if setting.last_sent_at is not None else since
        still_open: list[DigestEntry] = []
        finished: list[DigestEntry] = []
        unchecked = 0
        for flow_id, (thread_ts, shown_at) in listed.items():
            try:
                snapshot = self._look(flow_id)
            except FlowNotFound:
                continue  # a mistyped id shown once: nothing to report, nothing to warn of
            if snapshot is None:
                unchecked += 1
                continue
            outline = snapshot.outline
            entry = DigestEntry(
                flow_id=flow_id,
                status=str(outline.flow_status),
                created_at=outline.create_time,
                changed_at=outline.modify_time,
                fail_reason=outline.fail_reason,
                thread_ts=thread_ts,
            )
            if not is_final(entry.status):
                still_open.append(entry)
                continue
            # Finished since the last digest, or shown since then (the channel asked about it
            # after the last digest told what it knew): listed once, not every morning.
            changed = outline.modify_time.timestamp() if outline.modify_time else shown_at
            if max(changed, shown_at) >= finished_after:
                finished.append(entry)
        ordered = _oldest_first(still_open)
        # Links only for the open flows the digest has room to list.
        still_open = [
            *(self._with_link(channel, entry) for entry in ordered[:MAX_OPEN_SHOWN]),
            *ordered[MAX_OPEN_SHOWN:],
        ]
        return render_digest(still_open, finished, now=now, unchecked=unchecked)

    def _look(self, flow_id: str) -> FlowSnapshot | None:
        """The flow through the cache; a call to e签宝 waits for the polls' share first."""
        snapshot = self._lookup.peek(flow_id)
        if snapshot is not None:
            return snapshot
        try:
            self._pacer.acquire(BUDGET_WAIT_SECONDS)
            return self._lookup.get(flow_id)
        except RateLimited:
            return None
        except FlowNotFound:
            raise
        except EsignError as exc:
            log.info("a digest's flow could not be looked up", extra={"code": exc.code})
            return None

    def _with_link(self, channel: str, entry: DigestEntry) -> DigestEntry:
        if entry.thread_ts is None:
            return entry
        return dataclasses.replace(
            entry, permalink=self._replies.permalink(channel, entry.thread_ts)
        )


def _oldest_first(entries: list[DigestEntry]) -> list[DigestEntry]:
    return sorted(
        entries,
        key=lambda e: (e.created_at is None, e.created_at.timestamp() if e.created_at else 0.0),
    )
