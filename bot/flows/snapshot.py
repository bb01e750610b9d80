"""One look at a flow, as the lookup hands it to the renderer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.esign.models import FlowOutline


@dataclass(frozen=True, slots=True)
class FlowSnapshot:
    outline: FlowOutline
    #: When e签宝 answered (aware, UTC).
    fetched_at: datetime
    #: True when this answer was served from the TTL cache rather than a fresh call.
    from_cache: bool
    #: True when the data came from the built-in simulator instead of the real e签宝.
    simulated: bool = False
