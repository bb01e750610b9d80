"""Block Kit rendering: the only place that builds what a Slack user sees.

Every renderer returns a `Card` that stays inside Slack's limits whatever e签宝 sends, with all
e签宝 text escaped so it can neither ping nor link. Every sentence the bot says lives here.

The outline card: `outline` (one showing of it: footer, watching line, buttons), `outline_body`
(what depends on the outline alone, rendered once and reused), `outline_titles`,
`sub_flow_rows` (progress and one line per sub-flow, packed to fit), `related_flows` (the
agent's verification sections). `labels` is the table of each status's emoji and words (where
a status emoji is chosen); `times` the dates each reader sees in their own zone; `mrkdwn`
escaping; `limits` the sizes every card keeps to; `card` the `Card` and its shared buttons.
The other cards: `notes` (a one-line note, a failed lookup, the help), `notices` (the bot's
words for what happened to a request: refusals, failed posts, incidents), `watch`, `home`,
`modal`, `step` (Workflow Builder outputs) and `terminal` (a card as plain text).
"""

from bot.cards.card import ACTIONS_BLOCK_ID, Card
from bot.cards.notes import (
    Note,
    render_error,
    render_help,
    render_note,
    render_request_problems,
    request_problems_note,
)
from bot.cards.notices import (
    Notice,
    PublicAnswer,
    refusal_words,
    render_bad_button,
    render_incident,
    render_not_posted,
    render_notice,
    render_refusal,
)
from bot.cards.outline import Watching, render_outline
from bot.cards.outline_body import OutlineBodies

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
