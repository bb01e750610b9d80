"""When a digest is due: the setter's zone (a DST zone too), a time already past, lateness."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.state.digest_records import DigestSetting
from bot.watch.digest_schedule import (
    due_digest,
    due_on,
    known_zone,
    next_due,
    parse_clock_time,
)


def setting(hour: int, minute: int, tz: str, set_at: datetime) -> DigestSetting:
    return DigestSetting(
        channel_id="C0SUPPORT",
        team_id=None,
        user_id="U0SETTER",
        hour=hour,
        minute=minute,
        tz=tz,
        set_at=set_at.timestamp(),
    )


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("09:30", (9, 30)),
        ("9:05", (9, 5)),
        (" 23:59 ", (23, 59)),
        ("00:00", (0, 0)),
        ("8：15", (8, 15)),
    ],
)
def test_a_24_hour_time_reads(text: str, parsed: tuple[int, int]) -> None:
    assert parse_clock_time(text) == parsed


@pytest.mark.parametrize(
    "text", ["25:00", "24:00", "soon", "9", "9:5", "09:60", "", "9.30", "-1:00"]
)
def test_anything_else_is_not_a_time(text: str) -> None:
    assert parse_clock_time(text) is None


def test_the_time_is_the_setters_local_time() -> None:
    # 09:30 in Shanghai (UTC+8, no DST) is 01:30 UTC.
    daily = setting(9, 30, "Asia/Shanghai", utc(2026, 3, 1, 0, 0))
    assert due_on(daily, datetime(2026, 3, 2).date()) == utc(2026, 3, 2, 1, 30)
    # A minute before: only the day before's, long past (its claim settles it).
    before = due_digest(daily, utc(2026, 3, 2, 1, 29))
    assert before is not None and before.local_date == "2026-03-01" and before.too_late
    found = due_digest(daily, utc(2026, 3, 2, 1, 30, 5))
    assert found is not None and found.local_date == "2026-03-02" and not found.too_late


def test_a_dst_zone_keeps_the_wall_clock_time_across_the_change() -> None:
    # New York: 09:30 is 14:30 UTC before the change (EST) and 13:30 UTC after it (EDT).
    daily = setting(9, 30, "America/New_York", utc(2026, 3, 1, 0, 0))
    assert due_on(daily, datetime(2026, 3, 7).date()) == utc(2026, 3, 7, 14, 30)
    assert due_on(daily, datetime(2026, 3, 9).date()) == utc(2026, 3, 9, 13, 30)
    # On the night of the change, 02:30 does not exist: it comes an hour later on the clock.
    night = setting(2, 30, "America/New_York", utc(2026, 3, 1, 0, 0))
    assert due_on(night, datetime(2026, 3, 8).date()) == utc(2026, 3, 8, 7, 30)
    # When the clocks go back, 01:30 happens twice: the digest comes at the first, once.
    autumn = setting(1, 30, "America/New_York", utc(2026, 10, 1, 0, 0))
    first = utc(2026, 11, 1, 5, 30)
    assert due_on(autumn, datetime(2026, 11, 1).date()) == first
    at_first = due_digest(autumn, first + timedelta(minutes=1))
    at_second = due_digest(autumn, first + timedelta(hours=1, minutes=1))
    assert at_first is not None and at_second is not None
    # The same local date: the day's claim lets only one of them post.
    assert at_first.local_date == at_second.local_date == "2026-11-01"


def test_a_time_already_past_today_means_tomorrow() -> None:
    set_at = utc(2026, 3, 2, 2, 0)  # 10:00 in Shanghai
    daily = setting(9, 30, "Asia/Shanghai", set_at)
    assert due_digest(daily, set_at + timedelta(minutes=1)) is None
    assert next_due(daily, set_at) == utc(2026, 3, 3, 1, 30)
    later = setting(11, 0, "Asia/Shanghai", set_at)
    assert next_due(later, set_at) == utc(2026, 3, 2, 3, 0)


def test_a_digest_less_than_an_hour_late_is_due_later_it_is_too_late() -> None:
    daily = setting(9, 30, "Asia/Shanghai", utc(2026, 3, 1, 0, 0))
    late = due_digest(daily, utc(2026, 3, 2, 2, 29))
    assert late is not None and not late.too_late
    skipped = due_digest(daily, utc(2026, 3, 2, 2, 31))
    assert skipped is not None and skipped.too_late


def test_just_after_midnight_yesterdays_late_digest_is_still_found() -> None:
    # 23:50 in Shanghai; the bot comes back at 00:20 the next day.
    daily = setting(23, 50, "Asia/Shanghai", utc(2026, 3, 1, 0, 0))
    found = due_digest(daily, utc(2026, 3, 2, 16, 20))
    assert found is not None and found.local_date == "2026-03-02" and not found.too_late


def test_an_unknown_zone_is_utc() -> None:
    assert known_zone("Mars/Olympus_Mons") == "UTC"
    assert known_zone(None) == "UTC"
    assert known_zone("Europe/Berlin") == "Europe/Berlin"
    # Names Slack would never send but a payload might: a folder of the zone database, a path.
    for odd in ("America", "Asia", "../../etc/passwd", "x" * 300):
        assert known_zone(odd) == "UTC"
