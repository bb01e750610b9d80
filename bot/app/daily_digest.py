"""The daily digest's parts, wired once for the composition root: the door (the command, Recheck
and the digest itself), the channel memory every door records into, and the scheduler.

The digest's clock is the machine's, moved by DIGEST_CLOCK_OFFSET_SECONDS, unless a local run
hands in its own (the playground's "advance the clock").
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from bot.app.settings import Settings
from bot.delivery.answering import LanguageOf
from bot.delivery.background import BackgroundWork
from bot.delivery.channel_memory import ChannelMemory
from bot.delivery.digests import DigestDelivery
from bot.delivery.flow_cards import FlowCards
from bot.esign.rate_limit import CallPacer
from bot.flows.cache import FlowLookup
from bot.slack.replies import SlackReplies
from bot.slack.time_zones import SlackTimeZones
from bot.state.records import StateStore
from bot.watch.digest_scheduler import DigestScheduler


@dataclass(frozen=True, slots=True)
class DailyDigest:
    door: DigestDelivery
    #: Where the doors record what they showed visibly in a channel.
    memory: ChannelMemory
    #: Started by the composition root once the app is built.
    scheduler: DigestScheduler


def offset_clock(offset_seconds: float) -> Callable[[], float]:
    """The machine's clock, `offset_seconds` ahead (the digests' clock in tests)."""
    if not offset_seconds:
        return time.time
    return lambda: time.time() + offset_seconds


class Lookups(Protocol):
    """What the digest needs of the lookup stack (bot.app.lookup_stack.LookupStack)."""

    @property
    def cards(self) -> FlowCards: ...
    @property
    def lookup(self) -> FlowLookup: ...


def build_daily_digest(
    settings: Settings,
    stack: Lookups,
    replies: SlackReplies,
    work: BackgroundWork,
    store: StateStore,
    languages: LanguageOf,
    budget: CallPacer,
    clock: Callable[[], float] | None = None,
) -> DailyDigest:
    """`budget`: the watch polls' share of ESIGN_MAX_QPS, which the digests' lookups share (a
    large digest never takes what people's own lookups use)."""
    clock = clock or offset_clock(settings.digest_clock_offset_seconds)
    door = DigestDelivery(
        stack.cards,
        replies,
        work,
        store=store,
        lookup=stack.lookup,
        pacer=budget,
        time_zone_of=SlackTimeZones(replies.client),
        clock=clock,
        languages=languages,
    )
    scheduler = DigestScheduler(store, door, clock=clock, tick_seconds=settings.digest_tick_seconds)
    return DailyDigest(door, ChannelMemory(store, clock=clock), scheduler)
