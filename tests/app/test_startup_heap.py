"""What a process built at start-up stays out of every later collection."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from bot.app.startup_heap import freeze_startup_heap


@pytest.fixture
def unfrozen() -> Iterator[None]:
    yield
    gc.unfreeze()


@pytest.mark.usefixtures("unfrozen")
def test_objects_alive_at_start_up_are_frozen_and_new_ones_still_collected() -> None:
    built_at_start = [object() for _ in range(1000)]
    cycle: list[object] = []
    cycle.append(cycle)  # start-up garbage: freed, not frozen
    del cycle
    freeze_startup_heap()
    assert gc.get_freeze_count() >= len(built_at_start)
    assert not any(obj is built_at_start for obj in gc.get_objects())

    later: list[object] = []
    later.append(later)
    del later
    assert gc.collect() >= 1  # what requests allocate is still collected
