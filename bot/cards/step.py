"""What the Workflow Builder step hands back: its outputs, and its failure message.

Outputs land in later steps of someone's workflow (a message, a branch on `is_final`), so they are
plain text: no mrkdwn, no emoji shortcodes, and e签宝's raw values kept exactly as sent.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from bot.cards.esign_errors import error_detail, error_title
from bot.cards.labels import flow_status_label
from bot.esign.errors import EsignError, EsignUnavailable, FlowNotFound, InvalidFlowId
from bot.esign.models import FlowStatus, SubFlow, SubFlowStatus
from bot.flows.snapshot import FlowSnapshot
from bot.language import Language, pick

FINAL_STATUSES: Final = frozenset({FlowStatus.SUCCESS, FlowStatus.FAIL})
#: Workflow Builder shows a failed step's message to the workflow's owner; keep it short.
FAILURE_LIMIT: Final = 500


def step_outputs(snapshot: FlowSnapshot, *, checked_at: datetime) -> dict[str, Any]:
    outline = snapshot.outline
    status = str(outline.flow_status)
    return {
        "flow_status": status,
        "status_label": flow_status_label(outline.flow_status).words(),
        "object_type": str(outline.object_type),
        "fail_reason": outline.fail_reason or "",
        "sub_flows_summary": sub_flows_summary(outline.sub_flows),
        "is_final": status in FINAL_STATUSES,
        # slack#/types/timestamp: Unix seconds.
        "checked_at": int(checked_at.timestamp()),
    }


def sub_flows_summary(sub_flows: Sequence[SubFlow]) -> str:
    """ "1 of 2 succeeded" (plus what failed or is still running), for a workflow message."""
    total = len(sub_flows)
    if not total:
        return "no sub-flows yet"
    counts = Counter(str(sub.status) for sub in sub_flows)
    parts = [f"{counts[SubFlowStatus.SUCCESS]} of {total} succeeded"]
    for kind, word in ((SubFlowStatus.FAIL, "failed"), (SubFlowStatus.ING, "in progress")):
        if counts[kind]:
            parts.append(f"{counts[kind]} {word}")
    return ", ".join(parts)


def step_failure_message(
    error: EsignError | None,
    *,
    flow_id: str | None,
    restarting: bool = False,
    language: Language = "both",
) -> str:
    """Why the step could not check the flow, in words the workflow's owner can act on (both
    languages unless told: Workflow Builder shows it to whoever owns the workflow)."""
    shown = (flow_id or "").strip()[:64]
    en, zh = _failure_words(error, shown, restarting=restarting)
    return pick(en, zh, language, "\n")[:FAILURE_LIMIT]


def _failure_words(error: EsignError | None, shown: str, *, restarting: bool) -> tuple[str, str]:
    if restarting:
        return (
            "The e签宝 flow bot was restarting and did not check the flow. Run the step again.",
            "e签宝 流程机器人正在重启，没有查询该流程。请再运行一次此步骤。",
        )
    if isinstance(error, InvalidFlowId):
        if not shown:
            return (
                "The step got no flow id: set its flow_id input to the flow to check.",
                "此步骤没有收到流程 ID：请把 flow_id 输入设为要查询的流程。",
            )
        return (
            f"'{shown}' is not an e签宝 flow id. A flow id is a long number such as "
            "803719636976683872: check what the step's flow_id input is set to.",
            f"“{shown}”不是 e签宝 流程 ID。流程 ID 是一串长数字，例如 803719636976683872："
            "请检查此步骤的 flow_id 输入。",
        )
    if isinstance(error, FlowNotFound):
        return (
            f"e签宝 does not know flow {shown}. Check the id, and that it was created with "
            "this app in this environment.",
            f"e签宝 找不到流程 {shown}。请检查 ID，以及它是否由本应用在此环境中创建。",
        )
    if isinstance(error, EsignUnavailable):
        return (
            f"e签宝 is not answering just now, so flow {shown} was not checked. Try again later.",
            f"e签宝 暂时没有响应，流程 {shown} 未查询。请稍后再试。",
        )
    if error is not None:
        (title_en, title_zh), (detail_en, detail_zh) = error_title(error), error_detail(error)
        return (
            f"Could not check flow {shown}: {title_en}. {detail_en}",
            f"无法查询流程 {shown}：{title_zh}。{detail_zh}",
        )
    return (
        f"Could not check flow {shown}: something went wrong on the bot's side.",
        f"无法查询流程 {shown}：机器人出错了。",
    )
