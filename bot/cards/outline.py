"""The outline card: where one e签宝 verification flow stands, sub-flow by sub-flow.

Slack refuses a whole message when one limit is crossed, and e签宝's data has no upper bound (a
flow may carry hundreds of sub-flows or a fail reason of any length). So every piece of text is
cut to a fixed size and the lists are packed against a block and character budget, folding what
does not fit into "…and N more". Failed and running sub-flows are kept before succeeded ones, since
those are what the reader came to see.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from cachetools import LRUCache
from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.cards.card import Card, RenderedBlock, flow_actions
from bot.cards.labels import (
    Label,
    flow_status_label,
    sub_flow_status_label,
    sub_flow_type_label,
    subject_label,
)
from bot.cards.limits import ID_LIMIT, TOP_TEXT_LIMIT
from bot.cards.mrkdwn import (
    as_utc,
    clean,
    code,
    date_token,
    escape,
    human_age,
    mention,
    plain,
    truncate,
    units,
)
from bot.esign.models import FlowOutline, FlowStatus, RelatedFlow, SubFlow, SubFlowStatus
from bot.flows.snapshot import FlowSnapshot
from bot.language import Language, pick

#: Slack allows 50 blocks; the related-flow sections stop well before that.
MAX_RELATED_SECTIONS: Final = 20
#: All visible text of one card; Slack answers msg_blocks_too_long from about 13,000 characters.
TEXT_BUDGET: Final = 10_000
#: Section text may hold 3000; the margin covers the fold line and any counting differences.
SECTION_LIMIT: Final = 2_900
HEADER_LIMIT: Final = 150
RAW_NAME_LIMIT: Final = 60
CONTEXT_ID_LIMIT: Final = 200
FAIL_REASON_LIMIT: Final = 1_500
RELATED_FAIL_REASON_LIMIT: Final = 300
MAIN_SUB_FLOW_LINES: Final = 25
RELATED_SUB_FLOW_LINES: Final = 6
#: Room kept for a "…and N more" line whenever a list is cut.
FOLD_RESERVE: Final = 60
#: Room kept after the related flows for the bottom context line and the buttons.
TAIL_RESERVE: Final = 400

SIMULATED_BANNER: Final = ":test_tube: *Simulated e签宝 data — not a real flow*"
SIMULATED_BANNER_ZH: Final = ":test_tube: *模拟的 e签宝 数据，不是真实流程*"
RELATED_TITLE: Final = "*Agent's verification 经办人认证*"

#: The card's fixed titles, (English, 中文): shown both, or in the reader's language.
_TITLES: Final[dict[str, tuple[str, str]]] = {
    "subject": ("Subject", "主体"),
    "status": ("Status", "状态"),
    "context": ("Context id", "上下文"),
    "created": ("Created", "创建"),
    "changed": ("Last changed", "更新"),
    "fail_reason": ("Fail reason", "失败原因"),
    "sub_flows": ("Sub-flows", "子流程"),
    "related": ("Agent's verification", "经办人认证"),
}


def _title(key: str, language: Language) -> str:
    en, zh = _TITLES[key]
    return pick(en, zh, language)


# Order in which sub-flows keep their place when a list must be cut: what needs attention first.
_ATTENTION: Final[dict[str, int]] = {
    SubFlowStatus.FAIL: 0,
    SubFlowStatus.ING: 1,
    SubFlowStatus.TERMINATED: 3,
    SubFlowStatus.SUCCESS: 4,
}
_UNKNOWN_ATTENTION: Final = 2


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
        else _render_body(snapshot.outline, simulated=snapshot.simulated, language=language)
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


@dataclass(frozen=True, slots=True)
class _Body:
    """Everything of a card that depends on the outline alone, already serialized."""

    outline: FlowOutline
    simulated: bool
    blocks: tuple[Block, ...]
    top_text: str


class OutlineBodies:
    """Rendered bodies of the outlines shown lately, owned by whoever renders cards repeatedly.

    Cache hits hand out the same outline object for a whole TTL window, so its body is rendered
    once and reused: rendering and validating the blocks is most of a warm lookup's CPU time.
    Bounded by `maxsize` bodies; the oldest unused go first.
    """

    def __init__(self, maxsize: int = 256) -> None:
        self._bodies: LRUCache[tuple[int, bool, str], _Body] = LRUCache(maxsize=maxsize)
        self._lock = threading.Lock()

    def body(self, outline: FlowOutline, *, simulated: bool, language: Language = "both") -> _Body:
        key = (id(outline), simulated, language)
        with self._lock:
            cached = self._bodies.get(key)
        # The identity check guards against a new outline that reuses a freed object's id.
        if cached is not None and cached.outline is outline:
            return cached
        body = _render_body(outline, simulated=simulated, language=language)
        with self._lock:
            self._bodies[key] = body
        return body


def _render_body(outline: FlowOutline, *, simulated: bool, language: Language = "both") -> _Body:
    status = flow_status_label(outline.flow_status)
    blocks: list[Block] = []
    spent = 0

    def add(block: Block, *texts: str) -> None:
        nonlocal spent
        blocks.append(block)
        spent += sum(units(text) for text in texts)

    if simulated:
        banner = SIMULATED_BANNER_ZH if language == "zh" else SIMULATED_BANNER
        add(_context(banner), banner)
    header = _header_text(outline.flow_id, status, language)
    add(HeaderBlock(text=PlainTextObject(text=header, emoji=True)), header)
    fields = _overview_fields(outline, status, language)
    add(SectionBlock(fields=[MarkdownTextObject(text=field) for field in fields]), *fields)
    if outline.fail_reason:
        reason = f"*{_title('fail_reason', language)}*\n" + escape(
            outline.fail_reason, FAIL_REASON_LIMIT, keep_newlines=True
        )
        add(_section(reason), reason)
    sub_flows = _sub_flows_text(
        f"*{_title('sub_flows', language)}:* ",
        outline.sub_flows,
        MAIN_SUB_FLOW_LINES,
        SECTION_LIMIT,
        language,
    )
    add(_section(sub_flows), sub_flows)

    if outline.related_flows:
        blocks.append(DividerBlock())
        shown = 0
        for related in outline.related_flows[:MAX_RELATED_SECTIONS]:
            room = min(SECTION_LIMIT, TEXT_BUDGET - TAIL_RESERVE - FOLD_RESERVE - spent)
            text = _related_text(related, outline.context_id, room, language)
            if text is None:
                break
            add(_section(text), text)
            shown += 1
        hidden = len(outline.related_flows) - shown
        if hidden:
            fold = (
                f"_…另有 {hidden} 个关联流程_"
                if language == "zh"
                else f"_…and {hidden} more related flow{_s(hidden)}_"
            )
            add(_context(fold), fold)
    return _Body(
        outline=outline,
        simulated=simulated,
        blocks=tuple(RenderedBlock(block.to_dict()) for block in blocks),
        top_text=_top_text(outline, status, simulated=simulated, language=language),
    )


@dataclass(frozen=True, slots=True)
class _ProgressWords:
    none: str
    succeeded: str  # with {ok}, {total} and {s}
    counted: tuple[tuple[SubFlowStatus, str], ...]  # each with {n}
    other: str


_PROGRESS: Final[dict[str, _ProgressWords]] = {
    "en": _ProgressWords(
        "no sub-flows yet",
        "{ok} of {total} sub-flow{s} succeeded",
        (
            (SubFlowStatus.FAIL, "{n} failed"),
            (SubFlowStatus.ING, "{n} in progress"),
            (SubFlowStatus.TERMINATED, "{n} terminated"),
        ),
        "{n} other",
    ),
    "zh": _ProgressWords(
        "暂无子流程",
        "{total} 个子流程中 {ok} 个成功",
        (
            (SubFlowStatus.FAIL, "{n} 个失败"),
            (SubFlowStatus.ING, "{n} 个进行中"),
            (SubFlowStatus.TERMINATED, "{n} 个终止"),
        ),
        "{n} 个其他",
    ),
}


def progress(sub_flows: Sequence[SubFlow], *, zh: bool = False) -> str:
    """ "2 of 3 sub-flows succeeded · 1 failed" (or "3 个子流程中 2 个成功 · 1 个失败"): the
    flow's progress in one phrase."""
    words = _PROGRESS["zh" if zh else "en"]
    total = len(sub_flows)
    if not total:
        return words.none
    counts = Counter(str(sub.status) for sub in sub_flows)
    ok = counts[SubFlowStatus.SUCCESS]
    parts = [words.succeeded.format(ok=ok, total=total, s=_s(total))]
    parts += [phrase.format(n=counts[status]) for status, phrase in words.counted if counts[status]]
    other = total - sum(counts[status] for status in SubFlowStatus)
    if other:
        parts.append(words.other.format(n=other))
    return " · ".join(parts)


def label_mrkdwn(label: Label, separator: str = " · ", language: Language = "both") -> str:
    """A label as mrkdwn: our words as they are, e签宝's raw names verbatim in a code span."""
    if label.is_raw:
        return code(label.value, RAW_NAME_LIMIT)
    return escape(label.words_in(language, separator), RAW_NAME_LIMIT * 2)


def sub_flow_line(sub: SubFlow, language: Language = "both") -> str:
    status = sub_flow_status_label(sub.status)
    kind = label_mrkdwn(sub_flow_type_label(sub.sub_flow_type), language=language)
    return (
        f"{status.emoji} {kind} — {label_mrkdwn(status, ' ', language)} "
        f"{code(sub.sub_flow_id, ID_LIMIT)}"
    )


def _s(count: int) -> str:
    return "" if count == 1 else "s"


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text))


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text)])


def _context_line(text: str) -> RenderedBlock:
    """A context line drawn for every card shown (its age changes each time): the same block as
    _context, serialized directly, since its short text is bounded here, not by validation."""
    return RenderedBlock({"type": "context", "elements": [{"type": "mrkdwn", "text": text}]})


def _header_text(flow_id: str | None, status: Label, language: Language = "both") -> str:
    words = plain(status.value, RAW_NAME_LIMIT) if status.is_raw else status.words_in(language, " ")
    flow = plain(flow_id or "", ID_LIMIT) or "(no id)"
    name = "流程" if language == "zh" else "Flow"
    return truncate(f"{status.emoji} {name} {flow} · {words}", HEADER_LIMIT)


def _overview_fields(outline: FlowOutline, status: Label, language: Language = "both") -> list[str]:
    subject = subject_label(outline.object_type)
    return [
        f"*{_title('subject', language)}*\n{subject.emoji} {label_mrkdwn(subject, ' ', language)}",
        f"*{_title('status', language)}*\n{status.emoji} {label_mrkdwn(status, ' ', language)}",
        f"*{_title('context', language)}*\n{code(outline.context_id, CONTEXT_ID_LIMIT)}",
        f"*{_title('created', language)}*\n{date_token(outline.create_time)}",
        f"*{_title('changed', language)}*\n{date_token(outline.modify_time)}",
    ]


def _sub_flows_text(
    head: str,
    sub_flows: Sequence[SubFlow],
    max_lines: int,
    room: int,
    language: Language = "both",
) -> str:
    """Summary line plus as many sub-flow lines as fit in `room` units, then a fold line."""
    total = len(sub_flows)
    if language == "zh":
        summary = head + escape(progress(sub_flows, zh=True), 200)
    else:
        summary = head + escape(progress(sub_flows), 200)
        if total and language == "both":
            succeeded = sum(1 for sub in sub_flows if sub.status == SubFlowStatus.SUCCESS)
            summary += f" · 成功 {succeeded}/{total}"
    shown = _fit_lines(sub_flows, max_lines, room - units(summary) - 1, language)
    text = "\n".join([summary, *shown])
    hidden = total - len(shown)
    if hidden:
        text += (
            f"\n_…另有 {hidden} 个子流程_"
            if language == "zh"
            else f"\n_…and {hidden} more sub-flow{_s(hidden)}_"
        )
    return text


def _fit_lines(
    sub_flows: Sequence[SubFlow], max_lines: int, room: int, language: Language = "both"
) -> list[str]:
    """Lines for the sub-flows that fit in `room` units, in their original order.

    When not all fit, the most urgent are chosen first (failed, then running). Lines are rendered
    for candidates only, so thousands of sub-flows cost little more than a handful.
    """
    if len(sub_flows) <= max_lines:
        lines = [sub_flow_line(sub, language) for sub in sub_flows]
        if sum(units(line) + 1 for line in lines) <= room:
            return lines
    order = sorted(
        range(len(sub_flows)),
        key=lambda i: (_ATTENTION.get(str(sub_flows[i].status), _UNKNOWN_ATTENTION), i),
    )
    budget = room - FOLD_RESERVE
    chosen: dict[int, str] = {}
    for index in order[:max_lines]:
        line = sub_flow_line(sub_flows[index], language)
        if units(line) + 1 > budget:
            break
        chosen[index] = line
        budget -= units(line) + 1
    return [chosen[index] for index in sorted(chosen)]


def _related_text(
    related: RelatedFlow, main_context_id: str | None, room: int, language: Language = "both"
) -> str | None:
    """One related flow as a section text within `room` units, or None when even its head won't."""
    status = flow_status_label(related.flow_status)
    subject = subject_label(related.object_type)
    title = RELATED_TITLE if language == "both" else f"*{_title('related', language)}*"
    head = [
        f"{title} {code(related.flow_id, ID_LIMIT)}",
        f"{status.emoji} {label_mrkdwn(status, ' ', language)}"
        f" · {subject.emoji} {label_mrkdwn(subject, ' ', language)}",
    ]
    if related.context_id and related.context_id != main_context_id:
        head.append(f"{_title('context', language)} {code(related.context_id, CONTEXT_ID_LIMIT)}")
    if related.fail_reason:
        reason = escape(related.fail_reason, RELATED_FAIL_REASON_LIMIT)
        head.append(f"*{_title('fail_reason', language)}:* {reason}")
    head_text = "\n".join(head)
    sub_room = room - units(head_text) - 1
    if sub_room < 2 * FOLD_RESERVE:
        return None
    subs = _sub_flows_text(
        f"{_title('sub_flows', language)}: ",
        related.sub_flows,
        RELATED_SUB_FLOW_LINES,
        sub_room,
        language,
    )
    return f"{head_text}\n{subs}"


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


def _top_text(
    outline: FlowOutline, status: Label, *, simulated: bool, language: Language = "both"
) -> str:
    """Notification / screen-reader text: plain words only, every e签宝 value escaped."""
    flow = escape(outline.flow_id or "", ID_LIMIT) or "(no id)"
    words = (
        escape(status.value, RAW_NAME_LIMIT) if status.is_raw else status.words_in(language, " ")
    )
    if language == "zh":
        prefix = "[模拟] " if simulated else ""
        text = f"{prefix}e签宝 流程 {flow}：{words} — {progress(outline.sub_flows, zh=True)}"
    else:
        prefix = "[Simulated] " if simulated else ""
        text = f"{prefix}e签宝 flow {flow}: {words} — {progress(outline.sub_flows)}"
    # Every piece is escaped already; clean() only guards against our own line breaks.
    return truncate(clean(text), TOP_TEXT_LIMIT)
