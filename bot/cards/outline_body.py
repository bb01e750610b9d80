"""The outline card's body: everything on it that depends on the e签宝 outline alone.

Slack refuses a whole message when one limit is crossed, and e签宝's data has no upper bound (a
flow may carry hundreds of sub-flows or a fail reason of any length). So every piece of text is
cut to a fixed size and the sections are packed against a block and character budget, folding
what does not fit into "…and N more". The body is rendered once per outline and language and
reused (`OutlineBodies`); the parts that change with each showing are added by outline.py.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
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

from bot.cards.card import RenderedBlock
from bot.cards.labels import Label, flow_status_label, subject_label
from bot.cards.limits import CONTEXT_ID_LIMIT, ID_LIMIT, RAW_NAME_LIMIT, TOP_TEXT_LIMIT
from bot.cards.mrkdwn import clean, code, escape, label_mrkdwn, plain, truncate, units
from bot.cards.outline_titles import title
from bot.cards.related_flows import MAX_RELATED_SECTIONS, related_fold, related_text
from bot.cards.sub_flow_rows import FOLD_RESERVE, progress, sub_flows_text
from bot.cards.times import date_token
from bot.esign.models import FlowOutline
from bot.language import Language

#: All visible text of one card; Slack answers msg_blocks_too_long from about 13,000 characters.
TEXT_BUDGET: Final = 10_000
#: Section text may hold 3000; the margin covers the fold line and any counting differences.
SECTION_LIMIT: Final = 2_900
HEADER_LIMIT: Final = 150
FAIL_REASON_LIMIT: Final = 1_500
MAIN_SUB_FLOW_LINES: Final = 25
#: Room kept after the related flows for the bottom context line and the buttons.
TAIL_RESERVE: Final = 400

SIMULATED_BANNER: Final = ":test_tube: *Simulated e签宝 data — not a real flow*"
SIMULATED_BANNER_ZH: Final = ":test_tube: *模拟的 e签宝 数据，不是真实流程*"


@dataclass(frozen=True, slots=True)
class OutlineBody:
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
        self._bodies: LRUCache[tuple[int, bool, str], OutlineBody] = LRUCache(maxsize=maxsize)
        self._lock = threading.Lock()

    def body(
        self, outline: FlowOutline, *, simulated: bool, language: Language = "both"
    ) -> OutlineBody:
        key = (id(outline), simulated, language)
        with self._lock:
            cached = self._bodies.get(key)
        # The identity check guards against a new outline that reuses a freed object's id.
        if cached is not None and cached.outline is outline:
            return cached
        body = render_body(outline, simulated=simulated, language=language)
        with self._lock:
            self._bodies[key] = body
        return body


def render_body(
    outline: FlowOutline, *, simulated: bool, language: Language = "both"
) -> OutlineBody:
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
        reason = f"*{title('fail_reason', language)}*\n" + escape(
            outline.fail_reason, FAIL_REASON_LIMIT, keep_newlines=True
        )
        add(_section(reason), reason)
    sub_flows = sub_flows_text(
        f"*{title('sub_flows', language)}:* ",
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
            text = related_text(related, outline.context_id, room, language)
            if text is None:
                break
            add(_section(text), text)
            shown += 1
        hidden = len(outline.related_flows) - shown
        if hidden:
            fold = related_fold(hidden, language)
            add(_context(fold), fold)
    return OutlineBody(
        outline=outline,
        simulated=simulated,
        blocks=tuple(RenderedBlock(block.to_dict()) for block in blocks),
        top_text=_top_text(outline, status, simulated=simulated, language=language),
    )


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text))


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text)])


def _header_text(flow_id: str | None, status: Label, language: Language = "both") -> str:
    words = plain(status.value, RAW_NAME_LIMIT) if status.is_raw else status.words_in(language, " ")
    flow = plain(flow_id or "", ID_LIMIT) or "(no id)"
    name = "流程" if language == "zh" else "Flow"
    return truncate(f"{status.emoji} {name} {flow} · {words}", HEADER_LIMIT)


def _overview_fields(outline: FlowOutline, status: Label, language: Language = "both") -> list[str]:
    subject = subject_label(outline.object_type)
    return [
        f"*{title('subject', language)}*\n{subject.emoji} {label_mrkdwn(subject, ' ', language)}",
        f"*{title('status', language)}*\n{status.emoji} {label_mrkdwn(status, ' ', language)}",
        f"*{title('context', language)}*\n{code(outline.context_id, CONTEXT_ID_LIMIT)}",
        f"*{title('created', language)}*\n{date_token(outline.create_time)}",
        f"*{title('changed', language)}*\n{date_token(outline.modify_time)}",
    ]


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
