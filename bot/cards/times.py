"""Times on a card: Slack date tokens each reader sees in their own time zone, and ages.

The bot never picks a zone for the reader: a time leaves here as a token Slack shows in each
reader's own zone, with a UTC fallback. A naive time is read as UTC, never in the host's zone.
"""

from __future__ import annotations

from datetime import UTC, datetime

from slack_sdk.models.messages import DateLink

from bot.cards.mrkdwn import MISSING


def utc_text(when: datetime, *, seconds: bool = False) -> str:
    """Fallback wording of a time for clients that cannot localise a date token."""
    pattern = "%Y-%m-%d %H:%M:%S UTC" if seconds else "%Y-%m-%d %H:%M UTC"
    return when.astimezone(UTC).strftime(pattern)


def date_token(
    when: datetime | None, *, date_format: str = "{date_short_pretty} {time}", seconds: bool = False
) -> str:
    """A `<!date^…>` token that each reader sees in their own time zone, or a dash."""
    if when is None:
        return MISSING
    when = as_utc(when)
    epoch = int(when.timestamp())
    if epoch <= 0:
        # A zero (or negative) time from e签宝 means "not set", not 1 January 1970.
        return MISSING
    fallback = utc_text(when, seconds=seconds)
    return str(DateLink(date=epoch, date_format=date_format, fallback=fallback))


def as_utc(when: datetime) -> datetime:
    """Aware UTC time; a naive one is taken to be UTC already, never the host's local zone."""
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def human_age(seconds: float) -> str:
    """ "12 s", "3 min", "2 h": how old a cached answer is, at a glance (clock skew reads 0 s)."""
    whole = max(0, round(seconds))
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min"
    return f"{whole // 3600} h"
