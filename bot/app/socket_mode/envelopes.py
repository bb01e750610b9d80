"""Each Socket Mode envelope run once, however often Slack delivers it.

Slack delivers an envelope again (same `envelope_id` and payload, with `retry_attempt` and
`retry_reason`) when it saw no ack in time: the ack may have been lost with the link it went
out on. A redelivery is answered with the ack already sent, without running the listener
again. Acks are remembered in this process; that an envelope was answered is also claimed in
the state store (EventReceipts, shared by every process over SQLite or Redis), so a redelivery
that reaches another worker is acked without a second answer too.
"""

from __future__ import annotations

import json
import threading
from typing import Final

from cachetools import TTLCache

from bot.state.event_receipts import EventReceipts

#: Slack redelivers within minutes; ten of them cover it in this process.
KEEP_ACK_SECONDS: Final = 600.0
_PREFIX: Final = "envelope:"


class EnvelopeReceipts:
    def __init__(self, receipts: EventReceipts, *, keep_seconds: float = KEEP_ACK_SECONDS) -> None:
        self._receipts = receipts
        self._acks: TTLCache[str, str] = TTLCache(maxsize=4096, ttl=keep_seconds)
        self._lock = threading.Lock()

    def earlier_ack(self, envelope_id: str, retry_attempt: int | None) -> str | None:
        """For a redelivery already answered: the ack to send again (a bare one when another
        process answered). None when the envelope is to be run: a first delivery, or a
        redelivery of one no process answered."""
        if not retry_attempt:
            return None
        with self._lock:
            ack = self._acks.get(envelope_id)
        if ack is not None:
            return ack
        if self._receipts.first_delivery(_PREFIX + envelope_id):
            return None
        return _bare_ack(envelope_id)

    def remember(self, envelope_id: str, ack: str) -> None:
        """The ack about to be sent for `envelope_id` (in this process: cheap, before sending)."""
        with self._lock:
            self._acks[envelope_id] = ack

    def claim(self, envelope_id: str) -> None:
        """Tell every process `envelope_id` was answered (after the ack: off its path)."""
        self._receipts.first_delivery(_PREFIX + envelope_id)


def _bare_ack(envelope_id: str) -> str:
    return json.dumps({"envelope_id": envelope_id})
