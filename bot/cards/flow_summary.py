"""A flow in a few lines (the compact style): status, sub-flow progress, failure reason.

What a channel answer naming several flows shows for each, and what a link unfurls into: short
enough that five of them fit one message without burying the conversation. Both languages,
since a channel reads it; every e签宝 value escaped, so none can ping or link.
"""

from __future__ import annotations

from typing import Final

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from bot.cards.card import RenderedBlock
from bot.cards.esign_errors import error_emoji, error_title
from bot.cards.labels import flow_status_label
from bot.cards.limits import ID_LIMIT, RAW_NAME_LIMIT, TOP_TEXT_LIMIT
from bot.cards.mrkdwn import clean, code, escape, truncate
from bot.cards.sub_flow_rows import progress
from bot.cards.times import date_token
from bot.esign.errors import EsignError
from bot.flows.snapshot import FlowSnapshot

#: A compact failure reason: the card itself (Recheck, the slash command) shows the whole.
SHORT_REASON_LIMIT: Final = 300
SIMULATED_MARK: Final = ":test_tube: Simulated e签宝 data 模拟数据"


def summary_text(snapshot: FlowSnapshot) -> str:
    """The mrkdwn lines of one flow: a title line, its progress, the failure reason if any."""
    outline = snapshot.outline
    status = flow_status_label(outline.flow_status)
    words = (
        escape(status.value, RAW_NAME_LIMIT) if status.is_raw else status.words_in("both", " · ")
    )
    flow = code(outline.flow_id, ID_LIMIT)
    lines = [
        f"{status.emoji} *Flow 流程* {flow} · *{words}*",
        f"{progress(outline.sub_flows)} · {progress(outline.sub_flows, zh=True)}",
    ]
    if outline.fail_reason:
        reason = escape(outline.fail_reason, SHORT_REASON_LIMIT)
        lines.append(f"*Failure reason 失败原因:* {reason}")
    return "\n".join(lines)


def summary_blocks(snapshot: FlowSnapshot) -> list[Block]:
    """The summary section and a context line saying when e签宝 answered."""
    fetched = date_token(snapshot.fetched_at, date_format="{date_short_pretty} {time}")
    facts = [f"Fetched {fetched} from e签宝 · 从 e签宝 获取"]
    if snapshot.simulated:
        facts.insert(0, SIMULATED_MARK)
    return [
        SectionBlock(text=MarkdownTextObject(text=summary_text(snapshot))),
        RenderedBlock(
            ContextBlock(elements=[MarkdownTextObject(text=" · ".join(facts))]).to_dict()
        ),
    ]


def failure_text(flow_id: str, error: EsignError) -> str:
    """One line for a flow e签宝 could not answer for just now (among flows it did answer)."""
    en, zh = error_title(error)
    flow = code(flow_id, ID_LIMIT)
    return f"{error_emoji(error)} *Flow 流程* {flow} · {escape(en, 150)} · {escape(zh, 150)}"


def summary_top_text(snapshot: FlowSnapshot) -> str:
    """Notification text for one flow: plain words, escaped."""
    outline = snapshot.outline
    status = flow_status_label(outline.flow_status)
    words = escape(status.value, RAW_NAME_LIMIT) if status.is_raw else status.words_in("both", " ")
    flow = escape(outline.flow_id or "", ID_LIMIT)
    return truncate(clean(f"e签宝 flow {flow}: {words}"), TOP_TEXT_LIMIT)
