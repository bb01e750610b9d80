"""From a flow id to the card a person sees: look up (with an audit line), then render.

Neither step raises: every failure becomes a card that says what happened in plain words.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from bot.cards import (
    Card,
    Notice,
    OutlineBodies,
    Watching,
    render_error,
    render_notice,
    render_outline,
)
from bot.delivery.audit import record_lookup
from bot.esign.errors import EsignError
from bot.flows.cache import FlowLookup
from bot.flows.snapshot import FlowSnapshot
from bot.language import Language
from bot.slack.requester import Requester

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LookupOutcome:
    flow_id: str
    snapshot: FlowSnapshot | None = None
    error: EsignError | None = None


class LookupHistory(Protocol):
    """Where a person's lookups are remembered (their Home tab's "recent lookups")."""

    def record(self, user_id: str, flow_id: str, status: str) -> None:
        """Never raises: a store that fails must not fail the lookup."""
        ...


class FlowCards:
    def __init__(
        self,
        lookup: FlowLookup,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        history: LookupHistory | None = None,
    ) -> None:
        self._lookup = lookup
        self._clock = clock
        self._bodies = OutlineBodies()
        self._history = history
        self._observe: Callable[[LookupOutcome], None] | None = None

    def observe_with(self, observe: Callable[[LookupOutcome], None]) -> None:
        """Tell `observe` of every person's lookup from now on (the metrics; set once)."""
        self._observe = observe

    def remember_in(self, history: LookupHistory) -> None:
        """Record every person's lookups from now on (set once by the composition root)."""
        self._history = history

    def cached(self, flow_id: str, *, requester: Requester, trigger: str) -> LookupOutcome | None:
        """The flow's answer if this process has it cached (audited and remembered as any
        lookup), else None: never an e签宝 call, so an ack may use it."""
        started = time.perf_counter()
        snapshot = self._lookup.peek(flow_id)
        if snapshot is None:
            return None
        outcome = LookupOutcome(flow_id, snapshot=snapshot)
        self._finish(outcome, requester=requester, trigger=trigger, started=started)
        return outcome

    def look_up(self, flow_id: str, *, requester: Requester, trigger: str) -> LookupOutcome:
        started = time.perf_counter()
        outcome = LookupOutcome(flow_id)
        try:
            outcome = LookupOutcome(flow_id, snapshot=self._lookup.get(flow_id))
        except EsignError as exc:
            outcome = LookupOutcome(flow_id, error=exc)
        except Exception:
            # A bug of ours must still end in a message for the person waiting, not silence.
            log.exception("flow lookup failed unexpectedly")
        finally:
            self._finish(outcome, requester=requester, trigger=trigger, started=started)
        return outcome

    def _finish(
        self, outcome: LookupOutcome, *, requester: Requester, trigger: str, started: float
    ) -> None:
        record_lookup(
            requester,
            trigger=trigger,
            flow_id=outcome.flow_id,
            outcome=_outcome_name(outcome),
            cached=bool(outcome.snapshot and outcome.snapshot.from_cache),
            duration_ms=(time.perf_counter() - started) * 1000,
            code=outcome.error.code if outcome.error else None,
        )
        if self._observe is not None:
            self._observe(outcome)
        # Someone asked (a workflow step has no person): their Home tab lists it.
        if self._history is not None and requester.user_id is not None:
            status = str(outcome.snapshot.outline.flow_status) if outcome.snapshot else ""
            self._history.record(requester.user_id, outcome.flow_id, status)

    def render(
        self,
        outcome: LookupOutcome,
        *,
        ephemeral: bool,
        thread_ts: str | None = None,
        requested_by: str | None = None,
        offer_share: bool = True,
        watching: Watching | None = None,
        language: Language = "both",
        offer_watch: bool = True,
    ) -> Card:
        """`requested_by` is named on the card; `offer_share` is False where the bot cannot post;
        `watching` says who watches the flow (its card then offers Unwatch); `language` is the
        reader's own, for a card only they see; `offer_watch` False in a modal."""
        try:
            if outcome.snapshot is not None:
                return render_outline(
                    outcome.snapshot,
                    now=self._clock(),
                    ephemeral=ephemeral,
                    requested_by=requested_by,
                    thread_ts=thread_ts,
                    offer_share=offer_share,
                    bodies=self._bodies,
                    watching=watching,
                    language=language,
                    offer_watch=offer_watch,
                )
            if outcome.error is not None:
                return render_error(
                    outcome.error,
                    flow_id=outcome.flow_id,
                    thread_ts=thread_ts,
                    requested_by=requested_by,
                    language=language,
                )
        except Exception:
            log.exception("rendering a flow card failed")
        return render_notice(Notice.LOOKUP_FAILED_UNEXPECTEDLY, language)

    def card(
        self,
        flow_id: str,
        *,
        requester: Requester,
        trigger: str,
        ephemeral: bool,
        thread_ts: str | None = None,
        requested_by: str | None = None,
        offer_share: bool = True,
        watching: Watching | None = None,
        language: Language = "both",
    ) -> Card:
        outcome = self.look_up(flow_id, requester=requester, trigger=trigger)
        return self.render(
            outcome,
            ephemeral=ephemeral,
            thread_ts=thread_ts,
            requested_by=requested_by,
            offer_share=offer_share,
            watching=watching,
            language=language,
        )

    def lookup(self, flow_id: str) -> FlowSnapshot:
        """The flow through the cache, without an audit line (the bot's own looks, not people's);
        raises EsignError."""
        return self._lookup.get(flow_id)


def _outcome_name(outcome: LookupOutcome) -> str:
    if outcome.snapshot is not None:
        return "ok"
    if outcome.error is not None:
        return type(outcome.error).__name__
    return "internal_error"
