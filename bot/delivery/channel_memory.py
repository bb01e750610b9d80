"""What the bot showed visibly in a channel: the one place every door records it.

Call `ChannelMemory.shown(channel_id, flow_ids, thread_ts)` right after a card was posted where
the whole channel reads it (a message shortcut's answer, a shared card, an automatic answer, an
unfurl); the daily digest lists these flows. Never for an answer only one person sees (an
ephemeral slash-command card, the modal): a digest must not reveal what someone looked up
alone. Recording never fails the answer: a store that is down costs a log line.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from bot.state.digest_records import DigestStore
from bot.state.records import StoreUnavailable

log = logging.getLogger(__name__)


class ChannelMemory:
    def __init__(self, store: DigestStore, *, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock

    def shown(self, channel_id: str | None, flow_ids: Sequence[str], thread_ts: str | None) -> None:
        """Remember that these flows were shown in the channel, in the thread `thread_ts` (the
        posted message's own ts when it is not in a thread)."""
        if not channel_id or not flow_ids:
            return
        try:
            self._store.record_shown(channel_id, list(flow_ids), thread_ts, self._clock())
        except StoreUnavailable as exc:
            log.info("a shown flow was not remembered", extra={"error": str(exc)})
        except Exception:
            log.exception("remembering a shown flow failed")
