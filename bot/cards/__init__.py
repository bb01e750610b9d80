"""Block Kit rendering: the only place that builds what a Slack user sees.

Every renderer returns a `Card` that stays inside Slack's limits whatever e签宝 sends, with all
e签宝 text escaped so it can neither ping nor link. Every sentence the bot says lives here.
"""

from bot.cards.card import ACTIONS_BLOCK_ID, Card
from bot.cards.notes import (
    Notice,
    PublicAnswer,
    refusal_words,
    render_bad_button,
    render_incident,
    render_not_posted,
    render_notice,
    render_refusal,
)
from bot.cards.notices import (
    Note,
    render_error,
    render_help,
    render_note,
    render_request_problems,
    request_problems_note,
)
from bot.cards.outline import OutlineBodies, Watching, render_outline

__all__ = [
    "ACTIONS_BLOCK_ID",
    "Card",
    "Note",
    "Notice",
    "OutlineBodies",
    "PublicAnswer",
    "Watching",
    "refusal_words",
    "render_bad_button",
    "render_error",
    "render_help",
    "render_incident",
    "render_not_posted",
    "render_note",
    "render_notice",
    "render_outline",
    "render_refusal",
    "render_request_problems",
    "request_problems_note",
]
