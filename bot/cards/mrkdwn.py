"""Turning untrusted text into Slack text that cannot ping, link or break the layout.

Everything e签宝 sends (ids, fail reasons, unknown names) passes through here before it reaches a
card. Lengths are measured in UTF-16 code units, which is never less than Python's `len()`: a limit
met here holds however Slack counts characters.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from typing import Final

from slack_sdk.models.messages import DateLink

from bot.slack.ids import SLACK_USER_ID

ELLIPSIS: Final = "…"
#: Shown where a value is missing (no time, no context id).
MISSING: Final = "—"

# Categories removed outright: control (Cc), format (Cf: bidi overrides, RTL marks, zero-width
# characters), lone surrogates (Cs, which would not even encode as UTF-8) and private use (Co).
_DROPPED_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Co"})
_LINE_BREAKS: Final = frozenset("\n\r\t\v\f\x1c\x1d\x1e\x85\u2028\u2029")
_MRKDWN_ESCAPES: Final = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
# In plain_text we swap the three control characters for look-alikes instead of entities: whether
# Slack decodes entities there is not something we want the card's safety to depend on.
_PLAIN_LOOKALIKES: Final = {"&": "＆", "<": "‹", ">": "›"}
# A backtick would close the code span and let the rest of the value format as mrkdwn.
_CODE_BACKTICK: Final = "ˋ"


def units(text: str) -> int:
    """Length as Slack may count it (UTF-16 code units)."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def clean(text: str, *, keep_newlines: bool = False) -> str:
    """Drop invisible and control characters; fold line breaks to spaces unless kept."""
    # Printable text holds no control, format, surrogate or private-use character and no line
    # break: nothing to drop. This is nearly all text, and the loop below is per character.
    if text.isprintable():
        return text.strip()
    out: list[str] = []
    for char in text:
        if char in _LINE_BREAKS:
            out.append("\n" if keep_newlines and char in "\n\u2028\u2029" else " ")
        elif unicodedata.category(char) not in _DROPPED_CATEGORIES:
            out.append(char)
    result = "".join(out)
    if keep_newlines:
        # Runs of blank lines from hostile data would only stretch the card.
        result = re.sub(r"\n{3,}", "\n\n", result)
    return result.strip()


def truncate(text: str, limit: int) -> str:
    """Cut `text` to at most `limit` units, marking the cut with an ellipsis."""
    if units(text) <= limit:
        return text
    return _take(list(text), limit - units(ELLIPSIS)) + ELLIPSIS


def _take(pieces: list[str], limit: int) -> str:
    """Join whole pieces while they fit in `limit` units (pieces are never split)."""
    taken: list[str] = []
    used = 0
    for piece in pieces:
        size = units(piece)
        if used + size > limit:
            break
        taken.append(piece)
        used += size
    return "".join(taken)


def _mapped(text: str, table: dict[str, str], limit: int) -> str:
    if units(text) <= limit and not any(char in text for char in table):
        return text
    # Map character by character so a cut never lands inside an entity such as "&amp;".
    pieces = [table.get(char, char) for char in text]
    full = "".join(pieces)
    if units(full) <= limit:
        return full
    return _take(pieces, limit - units(ELLIPSIS)) + ELLIPSIS


def escape(text: str, limit: int, *, keep_newlines: bool = False) -> str:
    """Untrusted text for mrkdwn: cleaned, `& < >` escaped, at most `limit` units."""
    return _mapped(clean(text, keep_newlines=keep_newlines), _MRKDWN_ESCAPES, limit)


def code(text: str | None, limit: int) -> str:
    """Untrusted text as an inline code span (shown verbatim, never formatted), or a dash."""
    cleaned = clean(text or "").replace("`", _CODE_BACKTICK)
    if not cleaned:
        return MISSING
    return "`" + _mapped(cleaned, _MRKDWN_ESCAPES, limit - 2) + "`"


def plain(text: str, limit: int) -> str:
    """Untrusted text for a plain_text object: cleaned, no Slack control characters."""
    return _mapped(clean(text), _PLAIN_LOOKALIKES, limit)


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


def mention(user_id: str | None) -> str | None:
    """`<@U…>` for a well-formed Slack user id; anything else is dropped rather than echoed."""
    if user_id is None or not SLACK_USER_ID.fullmatch(user_id):
        return None
    return f"<@{user_id}>"
