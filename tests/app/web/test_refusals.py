"""Refusals: the first few of a kind in full, the rest as one counted line per window."""

from __future__ import annotations

import logging
import threading

import pytest

from bot.app.web.refusals import RefusalLog


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records]


def test_the_first_few_in_full_then_one_count_per_window(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    refusals = RefusalLog(logging.getLogger("refusals"), in_full=3, window_seconds=60, clock=clock)
    with caplog.at_level(logging.INFO, "refusals"):
        for _ in range(1000):
            refusals.refused("forged", "forged callback")
        assert lines(caplog) == ["refused: forged callback"] * 3
        clock.now += 61  # the next window: its first refusal closes the last one's count
        refusals.refused("forged", "forged callback")
    assert lines(caplog)[3:] == [
        "refused 997 more requests of this kind in the last 60 s (not logged one by one)",
        "refused: forged callback",
    ]
    assert caplog.records[3].refused_in_window == 1000  # type: ignore[attr-defined]


def test_kinds_are_counted_apart_and_flushed_at_shutdown(caplog: pytest.LogCaptureFixture) -> None:
    refusals = RefusalLog(logging.getLogger("refusals"), in_full=1, clock=Clock())
    with caplog.at_level(logging.INFO, "refusals"):
        for _ in range(5):
            refusals.refused("signature", "bad signature")
            refusals.refused("too_large", "too large")
        refusals.refused("once", "only once")
        refusals.flush()
    summaries = [r for r in caplog.records if "more requests" in r.getMessage()]
    assert sorted((r.refusal, r.getMessage()[:10]) for r in summaries) == [  # type: ignore[attr-defined]
        ("signature", "refused 4 "),
        ("too_large", "refused 4 "),
    ]
    assert len(caplog.records) == 3 + 2  # one in full per kind, two summaries


def test_a_window_closes_by_itself_when_no_refusal_follows(
    caplog: pytest.LogCaptureFixture,
) -> None:
    refusals = RefusalLog(logging.getLogger("refusals"), in_full=1, window_seconds=0.2)
    with caplog.at_level(logging.INFO, "refusals"):
        refusals.refused("forged", "forged")
        refusals.refused("forged", "forged")
        deadline = 50
        while deadline and not any("more requests" in m for m in lines(caplog)):
            deadline -= 1
            threading.Event().wait(0.05)
    assert "refused 1 more requests of this kind in the last 0.2 s" in lines(caplog)[-1]
