"""Sub-flow rows: a flow's progress in one phrase, one line per sub-flow, packed into a budget.

e签宝 puts no bound on how many sub-flows a flow carries, so the rows are cut to fit and end in
"…and N more"; failed and running sub-flows keep their place before succeeded ones, since those
are what the reader came to see.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from bot.cards.labels import sub_flow_status_label, sub_flow_type_label
from bot.cards.limits import ID_LIMIT
from bot.cards.mrkdwn import code, escape, label_mrkdwn, units
from bot.esign.models import SubFlow, SubFlowStatus
from bot.language import Language

#: Room kept for a "…and N more" line whenever a list is cut.
FOLD_RESERVE: Final = 60

# Order in which sub-flows keep their place when a list must be cut: what needs attention first.
_ATTENTION: Final[dict[str, int]] = {
    SubFlowStatus.FAIL: 0,
    SubFlowStatus.ING: 1,
    SubFlowStatus.TERMINATED: 3,
    SubFlowStatus.SUCCESS: 4,
}
_UNKNOWN_ATTENTION: Final = 2


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
    parts = [words.succeeded.format(ok=ok, total=total, s=plural_s(total))]
    parts += [phrase.format(n=counts[status]) for status, phrase in words.counted if counts[status]]
    other = total - sum(counts[status] for status in SubFlowStatus)
    if other:
        parts.append(words.other.format(n=other))
    return " · ".join(parts)


def plural_s(count: int) -> str:
    return "" if count == 1 else "s"


def sub_flow_line(sub: SubFlow, language: Language = "both") -> str:
    status = sub_flow_status_label(sub.status)
    kind = label_mrkdwn(sub_flow_type_label(sub.sub_flow_type), language=language)
    return (
        f"{status.emoji} {kind} — {label_mrkdwn(status, ' ', language)} "
        f"{code(sub.sub_flow_id, ID_LIMIT)}"
    )


def sub_flows_text(
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
            else f"\n_…and {hidden} more sub-flow{plural_s(hidden)}_"
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
