"""A channel's automatic answer: one message in the thread holding every flow it names.

One flow gets its full card (the message shortcut's, buttons and all); several get the compact
summary each, with Recheck (and Watch, while the flow can still move) under each. Flows e签宝
did not find are left out; one it could not answer for just now gets a line saying so. More
ids than the cap: a line says how many more were named.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from bot.cards.card import Card, RenderedBlock, button_shape, button_value
from bot.cards.flow_summary import failure_text, summary_blocks, summary_top_text
from bot.cards.limits import TOP_TEXT_LIMIT
from bot.cards.mrkdwn import truncate
from bot.cards.outline import MOVABLE_STATUSES
from bot.esign.errors import EsignError
from bot.flows.snapshot import FlowSnapshot
from bot.slack.ids import (
    ACTION_RECHECK,
    ACTION_WATCH,
    BLOCK_ANSWER_FLOW_PREFIX,
    BLOCK_ANSWER_MORE_PREFIX,
)

MORE_EMOJI: Final = ":heavy_plus_sign:"


@dataclass(frozen=True, slots=True)
class AnsweredFlow:
    """One flow of an answer: what e签宝 said, or why it could not say it just now."""

    flow_id: str
    snapshot: FlowSnapshot | None = None
    error: EsignError | None = None


def render_channel_answer(
    flows: Sequence[AnsweredFlow], *, more: int, thread_ts: str | None
) -> Card:
    """The compact answer for several flows; `more` ids were named past the cap."""
    blocks: list[Block] = []
    shown: list[str] = []
    for flow in flows:
        if flow.snapshot is not None:
            blocks.extend(summary_blocks(flow.snapshot))
            shown.append(summary_top_text(flow.snapshot))
        elif flow.error is not None:
            blocks.append(
                SectionBlock(text=MarkdownTextObject(text=failure_text(flow.flow_id, flow.error)))
            )
        actions = _answer_actions(flow, thread_ts)
        if actions is not None:
            blocks.append(actions)
    more_card = render_more_named(more)
    if more_card is not None:
        blocks.extend(more_card.blocks)
    text = truncate(" · ".join(shown) or "e签宝 flows", TOP_TEXT_LIMIT)
    return Card(text=text, blocks=blocks)


def render_more_named(more: int) -> Card | None:
    """ "…and 3 more flow ids were named": None when there were none past the cap."""
    if more <= 0:
        return None
    s = "" if more == 1 else "s"
    words = (
        f"{MORE_EMOJI} …and {more} more flow id{s} named in the message, not looked up here "
        f"· 消息中还有 {more} 个流程 ID 未在此查询"
    )
    block = ContextBlock(
        block_id=f"{BLOCK_ANSWER_MORE_PREFIX}{more}",
        elements=[MarkdownTextObject(text=words)],
    )
    return Card(text=f"…and {more} more flow id{s}", blocks=[block])


def _answer_actions(flow: AnsweredFlow, thread_ts: str | None) -> RenderedBlock | None:
    value = button_value(flow.flow_id, thread_ts)
    if value is None:
        return None
    wanted = [ACTION_RECHECK]
    if flow.snapshot is not None and str(flow.snapshot.outline.flow_status) in MOVABLE_STATUSES:
        wanted.append(ACTION_WATCH)
    elif flow.snapshot is None and not (flow.error is not None and flow.error.transient):
        return None
    buttons = [{**button_shape(action, "both"), "value": value} for action in wanted]
    block_id = f"{BLOCK_ANSWER_FLOW_PREFIX}{flow.flow_id}"
    return RenderedBlock({"type": "actions", "block_id": block_id, "elements": buttons})
