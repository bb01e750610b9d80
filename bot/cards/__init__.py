"""Block Kit rendering: the only place that builds what a Slack user sees.

Every renderer returns a `Card` that stays inside Slack's limits whatever e签宝 sends, with all
e签宝 text escaped so it can neither ping nor link.
"""

from bot.cards.card import ACTIONS_BLOCK_ID, Card
from bot.cards.notices import render_error, render_help, render_note, render_request_problems
from bot.cards.outline import render_outline

__all__ = [
    "ACTIONS_BLOCK_ID",
    "Card",
    "render_error",
    "render_help",
    "render_note",
    "render_outline",
    "render_request_problems",
]
