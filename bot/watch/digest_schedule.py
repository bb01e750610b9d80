"""When a channel's daily digest is due: a local time of day in the setter's zone, once a day.

Pure time arithmetic (no store, no Slack), so the scheduler's rules are tested alone:
- each local date has one due instant, HH:MM in the zone; a time that does not exist that day
  (a DST gap) is the instant the clock would show it an hour later, and a time that happens
  twice (clocks going back) is the first of the two;
- a due instant before the digest was set is never due (a time already past today means
  tomorrow);
- a digest less than LATE_LIMIT late is still posted (the process was down at the time);
  later than that it is skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.state.digest_records import DigestSetting

#: A digest later than this is skipped (with a log line) rather than posted.
LATE_LIMIT: Final = timedelta(hours=1)
_CLOCK_TIME = re.compile(r"([01]?[0-9]|2[0-3])[:：]([0-5][0-9])")


def parse_clock_time(text: str) -> tuple[int, int] | None:
    """ "09:30" (24 h, one or two digits for the hour; a full-width colon too) → (9, 30);
    None for anything else ("25:00", "soon", "9")."""
    found = _CLOCK_TIME.fullmatch(text.strip())
    return (int(found.group(1)), int(found.group(2))) if found else None


def zone(name: str | None) -> ZoneInfo:
    """The IANA zone, or UTC for a name this machine does not know (Slack sent none, or an odd
    one)."""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            # OSError: a name that is a folder of the zone database ("America") or too long.
            pass
    return ZoneInfo("UTC")


def known_zone(name: str | None) -> str:
    """The zone's name as it will be used: `name` if this machine knows it, else "UTC"."""
    return zone(name).key


def due_on(setting: DigestSetting, day: date) -> datetime:
    """The digest's due instant on a local date (aware, UTC)."""
    local = datetime.combine(day, time(setting.hour, setting.minute), tzinfo=zone(setting.tz))
    # Through UTC and back: a wall time inside a DST gap comes out as the instant it names
    # (an hour later on the clock), a repeated one as its first occurrence (fold=0).
    return local.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class DueDigest:
    setting: DigestSetting
    #: The local date the digest is for: the claim's key.
    local_date: str
    due_at: datetime
    #: True when it is LATE_LIMIT or more late: skipped, not posted.
    too_late: bool


def due_digest(setting: DigestSetting, now: datetime) -> DueDigest | None:
    """The digest that is due at `now` (today's or, just after midnight, yesterday's), or None.

    Whether it was already posted is the store's to say (the day's claim)."""
    today = now.astimezone(zone(setting.tz)).date()
    set_at = datetime.fromtimestamp(setting.set_at, UTC)
    for day in (today, today - timedelta(days=1)):
        due = due_on(setting, day)
        if due <= now and due >= set_at:
            return DueDigest(setting, day.isoformat(), due, too_late=now - due >= LATE_LIMIT)
    return None


def next_due(setting: DigestSetting, now: datetime) -> datetime:
    """The next due instant after `now` (what the answer to the setter says)."""
    today = now.astimezone(zone(setting.tz)).date()
    set_at = datetime.fromtimestamp(setting.set_at, UTC)
    for offset in range(3):
        due = due_on(setting, today + timedelta(days=offset))
        if due > now and due >= set_at:
            return due
    return due_on(setting, today + timedelta(days=3))
