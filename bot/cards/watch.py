"""What a watch says: the thread notice when a flow moves, and the notes around watching.

A notice is short on purpose (its card above is edited to the full new state): which flow,
what changed from what to what, in English and 中文, and who asked to be told.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Final

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from bot.cards.card import Card, flow_actions
from bot.cards.labels import flow_status_label, sub_flow_status_label, sub_flow_type_label
from bot.cards.limits import ID_LIMIT, TOP_TEXT_LIMIT
from bot.cards.mrkdwn import code, escape, mention, truncate
from bot.cards.notices import render_note
from bot.cards.outline import label_mrkdwn
from bot.flows.changes import Change
from bot.slack.ids import COMMAND

#: A notice lists at most this many changes, then says how many more there were.
MAX_CHANGE_LINES: Final = 12


def _status(kind: str, value: str) -> str:
    if not value:
        return "_(none 无)_"
    label = flow_status_label(value) if kind.endswith("flow") else sub_flow_status_label(value)
    return f"{label.emoji} {label_mrkdwn(label, ' ')}"


def change_line(change: Change) -> str:
    moved = f"{_status(change.kind, change.old)} → {_status(change.kind, change.new)}"
    if change.kind == "flow":
        return f"*Status 状态:* {moved}"
    if change.kind == "related_flow":
        return f"*Agent's flow 经办人认证* {code(change.subject, ID_LIMIT)}: {moved}"
    kind = label_mrkdwn(sub_flow_type_label(change.sub_flow_type))
    prefix = (
        "Agent's sub-flow 经办人子流程" if change.kind == "related_sub_flow" else "Sub-flow 子流程"
    )
    return f"*{prefix}* {kind}: {moved}"


def render_watch_notice(
    flow_id: str,
    found: Sequence[Change],
    *,
    watcher: str | None,
    final: bool,
    thread_ts: str | None = None,
) -> Card:
    """One reply for everything that moved in one look; Unwatch unless the watch just ended."""
    who = mention(watcher)
    head = f":bell: Flow {code(flow_id, ID_LIMIT)} changed 流程状态变化"
    if who:
        head = f"{who} {head}"
    lines = [change_line(change) for change in found[:MAX_CHANGE_LINES]]
    if len(found) > MAX_CHANGE_LINES:
        lines.append(f"_…and {len(found) - MAX_CHANGE_LINES} more changes_")
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text="\n".join([head, *lines])))]
    if final:
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text="The flow has ended, so the watch is over 流程已结束，已停止关注."
                    )
                ]
            )
        )
    else:
        actions = flow_actions(
            flow_id, thread_ts=thread_ts, requested_by=watcher, recheck=False, watch="unwatch"
        )
        if actions is not None:
            blocks.append(actions)
    first = found[0] if found else None
    summary = f"e签宝 flow {escape(flow_id, ID_LIMIT)} changed"
    if first is not None and first.kind == "flow":
        summary += f": {escape(first.old, 40)} → {escape(first.new, 40)}"
    return Card(text=truncate(summary, TOP_TEXT_LIMIT), blocks=blocks)


class WatchRefusal(StrEnum):
    """Why a watch was not started (the person is told, and nothing changes)."""

    CHANNEL_LIMIT = "channel_limit"
    TOTAL_LIMIT = "total_limit"
    FINAL = "final"
    UNAVAILABLE = "unavailable"


def render_watch_refusal(refusal: WatchRefusal, *, flow_id: str, limit: int = 0) -> Card:
    if refusal is WatchRefusal.CHANNEL_LIMIT:
        detail = (
            f"This channel already watches {limit} flows, the most allowed. Unwatch one "
            f"(`{COMMAND} watching` lists them) and try again."
        )
    elif refusal is WatchRefusal.TOTAL_LIMIT:
        detail = f"The bot already watches {limit} flows, the most it allows. Try again later."
    elif refusal is WatchRefusal.FINAL:
        detail = f"Flow {flow_id} has already ended, so there is nothing to wait for."
    else:
        detail = "The bot could not save the watch just now. Please try again in a minute."
    return render_note(f"Not watching flow {flow_id}", detail)


def render_watch_expired(flow_id: str, *, hours: float, watcher: str | None) -> Card:
    who = mention(watcher)
    text = (
        f":hourglass: {who + ' ' if who else ''}Stopped watching flow {code(flow_id, ID_LIMIT)} "
        f"after {hours:g} h without it ending 已超时，停止关注. "
        f"Run `{COMMAND} watch {escape(flow_id, ID_LIMIT)}` to watch it again."
    )
    return Card(
        text=truncate(f"Stopped watching e签宝 flow {escape(flow_id, ID_LIMIT)}", TOP_TEXT_LIMIT),
        blocks=[SectionBlock(text=MarkdownTextObject(text=text))],
    )


def render_unwatched(flow_id: str, *, count: int) -> Card:
    if count == 0:
        return render_note(
            f"Flow {flow_id} was not being watched here",
            f"`{COMMAND} watching` lists the flows watched in this channel.",
        )
    return render_note(
        f"Stopped watching flow {flow_id}",
        "No more notices will come for it. 已取消关注。",
    )


def render_watch_list(entries: Sequence[tuple[str, str | None, bool]]) -> Card:
    """`(flow id, watcher, by DM)` for each watch in the channel (and the person's own)."""
    if not entries:
        return render_note(
            "No flows are watched here",
            f"Press Watch on a card, or run `{COMMAND} watch <flowId>`.",
        )
    lines = [f":eyes: *Watched flows 关注中的流程* ({len(entries)})"]
    for flow_id, watcher, by_dm in entries[:40]:
        who = mention(watcher) or "someone"
        where = "by DM" if by_dm else "in a thread"
        lines.append(f"• {code(flow_id, ID_LIMIT)} — {who}, {where}")
    if len(entries) > 40:
        lines.append(f"_…and {len(entries) - 40} more_")
    return Card(
        text=truncate(f"{len(entries)} watched e签宝 flows", TOP_TEXT_LIMIT),
        blocks=[SectionBlock(text=MarkdownTextObject(text="\n".join(lines)))],
    )
