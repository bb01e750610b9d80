"""What a link to a flow unfurls into: the compact summary, nothing more.

An unfurl is read by everyone in the conversation and sits under someone else's message, so it
carries no buttons (the slash command and the message shortcut give the full card) and speaks
both languages.
"""

from __future__ import annotations

from typing import Any

from bot.cards.flow_summary import summary_blocks
from bot.flows.snapshot import FlowSnapshot


def render_unfurl(snapshot: FlowSnapshot) -> dict[str, Any]:
    """One entry of chat.unfurl's `unfurls` (keyed by the exact URL by the caller)."""
    return {"blocks": [block.to_dict() for block in summary_blocks(snapshot)]}
