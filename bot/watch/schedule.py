"""When a watch looks again: soon after it starts, then less and less often, never in step.

Steps of 1, 2, 4 and 10 times the first interval (30 s → 1 min → 2 min → 5 min by default),
each shortened by a random 0–20 % so that watches started together spread out, and the first
look always comes within the first interval.
"""

from __future__ import annotations

import random
from typing import Final

STEP_FACTORS: Final = (1, 2, 4, 10)
JITTER: Final = 0.2


def poll_delay(step: int, first_seconds: float, rng: random.Random | None = None) -> float:
    factor = STEP_FACTORS[min(step, len(STEP_FACTORS) - 1)]
    spread = (rng or random).uniform(1 - JITTER, 1.0)
    return first_seconds * factor * spread
