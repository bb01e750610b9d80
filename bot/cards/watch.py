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
from bot.cards.mrkdwn import code, escape, label_mrkdwn, mention, truncate
from bot.cards.notes import render_note_in
from bot.flows.changes import Change
from bot.language import Language, pick
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


def render_watch_refusal(
    refusal: WatchRefusal, *, flow_id: str, limit: int = 0, language: Language = "both"
) -> Card:
    if refusal is WatchRefusal.CHANNEL_LIMIT:
        en = (
            f"This channel already watches {limit} flows, the most allowed. Unwatch one "
            f"(`{COMMAND} watching` lists them) and try again."
        )
        zh = (
            f"本频道已关注 {limit} 个流程，已达上限。请先取消关注一个"
            f"（`{COMMAND} watching` 可列出），再试一次。"
        )
    elif refusal is WatchRefusal.TOTAL_LIMIT:
        en = f"The bot already watches {limit} flows, the most it allows. Try again later."
        zh = f"机器人已关注 {limit} 个流程，已达上限。请稍后再试。"
    elif refusal is WatchRefusal.FINAL:
        en = f"Flow {flow_id} has already ended, so there is nothing to wait for."
        zh = f"流程 {flow_id} 已结束，无需再关注。"
    else:
        en = "The bot could not save the watch just now. Please try again in a minute."
        zh = "机器人暂时无法保存关注。请一分钟后再试。"
    return render_note_in(
        language, (f"Not watching flow {flow_id}", en), (f"未关注流程 {flow_id}", zh)
    )


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


def render_unwatched(flow_id: str, *, count: int, language: Language = "both") -> Card:
    if count == 0:
        return render_note_in(
            language,
            (
                f"Flow {flow_id} was not being watched here",
                f"`{COMMAND} watching` lists the flows watched in this channel.",
            ),
            (f"此处没有关注流程 {flow_id}", f"`{COMMAND} watching` 可列出本频道关注的流程。"),
        )
    return render_note_in(
        language,
        (f"Stopped watching flow {flow_id}", "No more notices will come for it."),
        (f"已取消关注流程 {flow_id}", "不会再收到它的通知。"),
    )


def render_watch_list(
    entries: Sequence[tuple[str, str | None, bool]], language: Language = "both"
) -> Card:
    """`(flow id, watcher, by DM)` for each watch in the channel (and the person's own)."""
    if not entries:
        return render_note_in(
            language,
            (
                "No flows are watched here",
                f"Press Watch on a card, or run `{COMMAND} watch <flowId>`.",
            ),
            ("此处没有关注的流程", f"在卡片上点 Watch，或运行 `{COMMAND} watch <流程ID>`。"),
        )
    title = pick("Watched flows", "关注中的流程", language)
    lines = [f":eyes: *{title}* ({len(entries)})"]
    for flow_id, watcher, by_dm in entries[:40]:
        who = mention(watcher) or pick("someone", "某人", language)
        if by_dm:
            where = pick("by DM", "私信", language)
        else:
            where = pick("in a thread", "话题中", language)
        lines.append(f"• {code(flow_id, ID_LIMIT)} — {who}, {where}")
    if len(entries) > 40:
        more = len(entries) - 40
        lines.append("_" + pick(f"…and {more} more", f"…另有 {more} 个", language) + "_")
    top = pick(
        f"{len(entries)} watched e签宝 flows", f"关注中的 e签宝 流程：{len(entries)} 个", language
    )
    return Card(
        text=truncate(top, TOP_TEXT_LIMIT),
        blocks=[SectionBlock(text=MarkdownTextObject(text="\n".join(lines)))],
    )
