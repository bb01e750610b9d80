"""Short cards: a failed lookup, the help text, and one-line notes.

Error cards show the error's own title and detail, never `repr()` or a traceback: those are
written for the person in Slack, and the rest belongs in the logs.
"""

from __future__ import annotations

from typing import Final

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from bot.cards.card import Card, flow_actions
from bot.cards.limits import ID_LIMIT, TOP_TEXT_LIMIT
from bot.cards.mrkdwn import code, escape, mention, truncate
from bot.esign.errors import (
    EsignError,
    EsignUnavailable,
    FlowNotFound,
    GatewayRejected,
    InvalidFlowId,
    RateLimited,
)
from bot.slack.ids import COMMAND

TITLE_LIMIT: Final = 150
DETAIL_LIMIT: Final = 1_500

# Checked in order, so a subclass (CircuitOpen under EsignUnavailable) may share its parent's.
_ERROR_EMOJI: Final[tuple[tuple[type[EsignError], str], ...]] = (
    (FlowNotFound, ":mag:"),
    (InvalidFlowId, ":pencil2:"),
    (GatewayRejected, ":lock:"),
    (RateLimited, ":snail:"),
    (EsignUnavailable, ":electric_plug:"),
)
DEFAULT_ERROR_EMOJI: Final = ":warning:"
NOTE_EMOJI: Final = ":information_source:"


def error_emoji(error: EsignError) -> str:
    for kind, emoji in _ERROR_EMOJI:
        if isinstance(error, kind):
            return emoji
    return DEFAULT_ERROR_EMOJI


def render_error(
    error: EsignError,
    *,
    flow_id: str | None = None,
    thread_ts: str | None = None,
    requested_by: str | None = None,
) -> Card:
    # Titles are ours, but details quote e签宝's messages: escape both all the same.
    title = escape(error.title, TITLE_LIMIT) or "e签宝 lookup failed"
    detail = escape(error.detail or "", DETAIL_LIMIT, keep_newlines=True)
    body = f"{error_emoji(error)} *{title}*"
    if detail:
        body += f"\n{detail}"
    facts: list[str] = []
    if error.code is not None:
        facts.append(f"e签宝 code {error.code}")
    if flow_id:
        facts.append(f"flow {code(flow_id, ID_LIMIT)}")
    who = mention(requested_by)
    if who is not None:
        facts.append(f"requested by {who}")
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=body))]
    if facts:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=" · ".join(facts))]))
    # Asking again only helps when the failure may pass (timeouts, rate limits, outages).
    actions = (
        flow_actions(flow_id, thread_ts=thread_ts, requested_by=requested_by)
        if error.transient
        else None
    )
    if actions is not None:
        blocks.append(actions)

    top = title
    if flow_id:
        top += f" (flow {escape(flow_id, ID_LIMIT)})"
    if error.code is not None:
        top += f" — e签宝 code {error.code}"
    return Card(text=_top(top), blocks=blocks)


def render_help(command: str = COMMAND) -> Card:
    cmd = code(command, 40)
    usage = "\n".join(
        [
            "*Look up an e签宝 identity verification flow (认证流程)*",
            f"• {code(f'{command} <flowId>', 80)} — show where the flow stands, sub-flow by "
            "sub-flow (only you see the answer; *Share* posts it to the channel).",
            f"• {code(f'{command} <flowId> <flowId> …', 80)} — several flows at once, separated "
            "by spaces.",
            f"• {code(f'{command} watch <flowId>', 80)} — tell me (by DM) when the flow moves; "
            f"{code(f'{command} unwatch <flowId>', 80)} stops it, "
            f"{code(f'{command} watching', 60)} lists this channel's watches. "
            "*Watch* on a posted card tells its thread instead.",
            f"• {cmd} or {code(f'{command} help', 60)} — this help.",
            "A flow id is a long number such as `803719636976683872`.",
        ]
    )
    shortcut = (
        ":thread: In a thread, slash commands do not work: open the *⋯ More actions* menu on a "
        "message that mentions a flow id and pick the e签宝 flow shortcut; the answer goes "
        "to that thread."
    )
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=usage)),
        ContextBlock(elements=[MarkdownTextObject(text=shortcut)]),
    ]
    return Card(
        text=_top(f"How to use {escape(command, 40)}: {escape(command, 40)} &lt;flowId&gt;"),
        blocks=blocks,
    )


def render_note(title: str, detail: str) -> Card:
    """A one-off message in plain words; both parts are escaped, so callers pass plain text."""
    safe_title = escape(title, TITLE_LIMIT)
    safe_detail = escape(detail, DETAIL_LIMIT, keep_newlines=True)
    body = f"{NOTE_EMOJI} *{safe_title}*" if safe_title else NOTE_EMOJI
    if safe_detail:
        body += f"\n{safe_detail}"
    # Slack needs a non-empty top-level text for notifications, even for an empty note.
    top = ": ".join(part for part in (safe_title, safe_detail) if part) or "Note"
    return Card(text=_top(top), blocks=[SectionBlock(text=MarkdownTextObject(text=body))])


def _top(text: str) -> str:
    return truncate(text, TOP_TEXT_LIMIT)


def render_request_problems(rejected: list[str], *, over_cap: int, cap: int) -> Card | None:
    """What part of a request was not looked up, or None when all of it was."""
    lines = []
    if rejected:
        shown = ", ".join(code(token, ID_LIMIT) for token in rejected)
        lines.append(
            f"Not flow ids, skipped: {shown}. A flow id is a long number such as "
            "`803719636976683872`."
        )
    if over_cap:
        lines.append(
            f"Only the first {cap} flow ids are looked up at a time; {over_cap} more were left out."
        )
    if not lines:
        return None
    title = "Some of that was not looked up"
    body = f"{NOTE_EMOJI} *{title}*\n" + "\n".join(lines)
    return Card(
        text=_top(f"{title}: " + " ".join(lines)),
        blocks=[SectionBlock(text=MarkdownTextObject(text=body))],
    )
