"""Turning untrusted text into Slack text that cannot ping, link or break the layout.

Everything e签宝 sends (ids, fail reasons, unknown names, labels that are e签宝's raw names)
passes through here before it reaches a card. Lengths are measured in UTF-16 code units, which is
never less than Python's `len()`: a limit met here holds however Slack counts characters.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from bot.cards.labels import Label
from bot.cards.limits import RAW_NAME_LIMIT
from bot.language import Language
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


def mention(user_id: str | None) -> str | None:
    """`<@U…>` for a well-formed Slack user id; anything else is dropped rather than echoed."""
    if user_id is None or not SLACK_USER_ID.fullmatch(user_id):
        return None
    return f"<@{user_id}>"


def label_mrkdwn(label: Label, separator: str = " · ", language: Language = "both") -> str:
    """A label as mrkdwn: our words as they are, e签宝's raw names verbatim in a code span."""
    if label.is_raw:
        return code(label.value, RAW_NAME_LIMIT)
    return escape(label.words_in(language, separator), RAW_NAME_LIMIT * 2)
