"""A card as plain text for a terminal (`esign-bot check`), times in the local time zone."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from typing import Any

from bot.cards.card import Card

_DATE_TOKEN = re.compile(r"<!date\^(-?\d+)\^[^|>]*\|[^>]*>")
_MENTION = re.compile(r"<@([A-Z0-9]+)>")


def card_to_text(card: Card) -> str:
    lines: list[str] = []
    for block in card.to_message()["blocks"]:
        lines.extend(_block_lines(block))
    return "\n".join(lines)


def _block_lines(block: dict[str, Any]) -> list[str]:
    kind = block.get("type")
    if kind == "header":
        title = _text(block["text"])
        return [title, "=" * min(len(title), 80)]
    if kind == "divider":
        return ["-" * 40]
    if kind == "section":
        lines = [_text(block["text"])] if block.get("text") else []
        lines.extend(_text(field).replace("\n", ": ", 1) for field in block.get("fields", []))
        return lines
    if kind == "context":
        return ["  " + " ".join(_text(element) for element in block.get("elements", []))]
    if kind == "actions":
        return [" ".join(f"[{_text(e['text'])}]" for e in block.get("elements", []) if "text" in e)]
    return []


def _text(obj: dict[str, Any]) -> str:
    text = str(obj.get("text", ""))
    text = _DATE_TOKEN.sub(_local_time, text)
    text = _MENTION.sub(r"@\1", text)
    return html.unescape(text)


def _local_time(match: re.Match[str]) -> str:
    when = datetime.fromtimestamp(int(match.group(1)), tz=UTC).astimezone()
    return when.strftime("%Y-%m-%d %H:%M:%S %Z")
