"""The polling schedule: the first look within the first interval, then backing off, spread."""

from __future__ import annotations

import random

from bot.watch.schedule import poll_delay


def test_backs_off_to_a_cap_and_never_exceeds_each_step() -> None:
    rng = random.Random(7)
    for step, cap in [(0, 30), (1, 60), (2, 120), (3, 300), (9, 300)]:
        delays = [poll_delay(step, 30.0, rng) for _ in range(200)]
        assert max(delays) <= cap
        assert min(delays) >= cap * 0.8


def test_watches_started_together_do_not_poll_together() -> None:
    rng = random.Random(1)
    firsts = sorted(round(poll_delay(0, 30.0, rng), 2) for _ in range(50))
    assert len(set(firsts)) > 40
    assert firsts[-1] - firsts[0] > 3.0
