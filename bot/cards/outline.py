"""The outline card: where one e签宝 verification flow stands, as one person is shown it.

The body (outline_body.py) depends on the outline alone and is reused; this adds what changes
with each showing: when the answer was fetched and for whom, whether the flow is watched, and
the buttons.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from slack_sdk.models.blocks import Block

from bot.cards.card import Card, RenderedBlock, flow_actions
from bot.cards.mrkdwn import mention
from bot.cards.outline_body import OutlineBodies, render_body
from bot.cards.times import as_utc, date_token, human_age
from bot.esign.models import FlowStatus
from bot.flows.snapshot import FlowSnapshot
from bot.language import Language


def render_outline(
    snapshot: FlowSnapshot,
    *,
    now: datetime,
    ephemeral: bool,
    requested_by: str | None = None,
    thread_ts: str | None = None,
    offer_share: bool = True,
    bodies: OutlineBodies | None = None,
    watching: Watching | None = None,
    language: Language = "both",
    offer_watch: bool = True,
) -> Card:
    """The card for one flow. `now` only ages a cached answer; Share is offered on ephemeral cards
    unless `offer_share` is False (where the bot cannot post, such as a DM between people).

    `requested_by` (a Slack user id) is mentioned in the footer when it looks like one, and
    `thread_ts` is the thread the card answers in. Both ride along in the button values, so a
    Recheck or Share answers in that thread and a rechecked card still names who asked.
    `bodies` reuses the rendered body of an outline shown before. A flow that can still move
    offers Watch, or, when `watching`, says so and offers Unwatch. `language` is the reader's
    ("both" for anything posted where several people read it). `offer_watch` False leaves
    Watch out where a watch has no card to live on (a modal).
    """
    body = (
        bodies.body(snapshot.outline, simulated=snapshot.simulated, language=language)
        if bodies is not None
        else render_body(snapshot.outline, simulated=snapshot.simulated, language=language)
    )
    blocks: list[Block] = list(body.blocks)
    blocks.append(_context_line(_footer_text(snapshot, now, requested_by, language)))
    movable = str(snapshot.outline.flow_status) in MOVABLE_STATUSES
    if movable and watching is not None:
        blocks.append(_context_line(_watching_text(watching)))
    actions = flow_actions(
        snapshot.outline.flow_id,
        thread_ts=thread_ts,
        requested_by=requested_by,
        share=ephemeral and offer_share,
        watch=("unwatch" if watching is not None else "watch") if movable and offer_watch else None,
        language=language,
    )
    if actions is not None:
        blocks.append(actions)
    return Card(text=body.top_text, blocks=blocks)


#: A flow in these states can still move, so it can be watched.
MOVABLE_STATUSES: Final = frozenset({FlowStatus.INIT, FlowStatus.ING})


@dataclass(frozen=True, slots=True)
class Watching:
    """Someone watches this card's flow: who, and whether notices come by DM or in the thread."""

    user_id: str | None
    by_dm: bool


def _watching_text(watching: Watching) -> str:
    who = mention(watching.user_id)
    where = (
        "you get a DM when it changes 状态变化时私信通知"
        if watching.by_dm
        else "changes are posted in this thread 状态变化时在此话题中通知"
    )
    return f":eyes: *Watching 关注中*{f' for {who}' if who else ''} — {where}"


def _context_line(text: str) -> RenderedBlock:
    """A context line drawn for every card shown (its age changes each time): the same block as
    outline_body's _context, serialized directly, since its short text is bounded here, not by
    validation."""
    return RenderedBlock({"type": "context", "elements": [{"type": "mrkdwn", "text": text}]})


def _footer_text(
    snapshot: FlowSnapshot, now: datetime, requested_by: str | None, language: Language = "both"
) -> str:
    fetched = date_token(
        snapshot.fetched_at, date_format="{date_short_pretty} {time_secs}", seconds=True
    )
    zh = language == "zh"
    parts = [f"{fetched} 从 e签宝 获取" if zh else f"Fetched {fetched} from e签宝"]
    if snapshot.from_cache:
        age = human_age((as_utc(now) - as_utc(snapshot.fetched_at)).total_seconds())
        parts.append(f"缓存，{age} 前" if zh else f"cached, {age} old")
    who = mention(requested_by)
    if who is not None:
        parts.append(f"requested by {who}")
    return " · ".join(parts)
