"""From a flow id to the card a person sees: look up (with an audit line), then render.

Neither step raises: every failure becomes a card that says what happened in plain words.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.audit import Requester, record_lookup
from bot.cards import (
    Card,
    Notice,
    OutlineBodies,
    Watching,
    render_error,
    render_notice,
    render_outline,
)
from bot.esign.errors import EsignError
from bot.lookup import FlowLookup
from bot.snapshot import FlowSnapshot

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LookupOutcome:
    flow_id: str
    snapshot: FlowSnapshot | None = None
    error: EsignError | None = None


class FlowCards:
    def __init__(
        self, lookup: FlowLookup, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._lookup = lookup
        self._clock = clock
        self._bodies = OutlineBodies()

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
            record_lookup(
                requester,
                trigger=trigger,
                flow_id=flow_id,
                outcome=_outcome_name(outcome),
                cached=bool(outcome.snapshot and outcome.snapshot.from_cache),
                duration_ms=(time.perf_counter() - started) * 1000,
                code=outcome.error.code if outcome.error else None,
            )
        return outcome

    def render(
        self,
        outcome: LookupOutcome,
        *,
        ephemeral: bool,
        thread_ts: str | None = None,
        requested_by: str | None = None,
        offer_share: bool = True,
        watching: Watching | None = None,
    ) -> Card:
        """`requested_by` is named on the card; `offer_share` is False where the bot cannot post;
        `watching` says who watches the flow (its card then offers Unwatch)."""
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
                )
            if outcome.error is not None:
                return render_error(
                    outcome.error,
                    flow_id=outcome.flow_id,
                    thread_ts=thread_ts,
                    requested_by=requested_by,
                )
        except Exception:
            log.exception("rendering a flow card failed")
        return render_notice(Notice.LOOKUP_FAILED_UNEXPECTEDLY)

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
    ) -> Card:
        outcome = self.look_up(flow_id, requester=requester, trigger=trigger)
        return self.render(
            outcome,
            ephemeral=ephemeral,
            thread_ts=thread_ts,
            requested_by=requested_by,
            offer_share=offer_share,
            watching=watching,
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
