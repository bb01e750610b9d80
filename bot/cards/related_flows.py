"""Related-flow sections: the agent's own verification flows, shown under the main flow.

Each is a section of its own (status, subject, its context id when it differs from the main
flow's, its fail reason and its sub-flow rows), cut to the room the card has left.
"""

from __future__ import annotations

from typing import Final

from bot.cards.labels import flow_status_label, subject_label
from bot.cards.limits import CONTEXT_ID_LIMIT, ID_LIMIT
from bot.cards.mrkdwn import code, escape, label_mrkdwn, units
from bot.cards.outline_titles import title
from bot.cards.sub_flow_rows import FOLD_RESERVE, plural_s, sub_flows_text
from bot.esign.models import RelatedFlow
from bot.language import Language

#: Slack allows 50 blocks; the related-flow sections stop well before that.
MAX_RELATED_SECTIONS: Final = 20
RELATED_FAIL_REASON_LIMIT: Final = 300
RELATED_SUB_FLOW_LINES: Final = 6
RELATED_TITLE: Final = "*Agent's verification 经办人认证*"


def related_text(
    related: RelatedFlow, main_context_id: str | None, room: int, language: Language = "both"
) -> str | None:
    """One related flow as a section text within `room` units, or None when even its head won't."""
    status = flow_status_label(related.flow_status)
    subject = subject_label(related.object_type)
    heading = RELATED_TITLE if language == "both" else f"*{title('related', language)}*"
    head = [
        f"{heading} {code(related.flow_id, ID_LIMIT)}",
        f"{status.emoji} {label_mrkdwn(status, ' ', language)}"
        f" · {subject.emoji} {label_mrkdwn(subject, ' ', language)}",
    ]
    if related.context_id and related.context_id != main_context_id:
        head.append(f"{title('context', language)} {code(related.context_id, CONTEXT_ID_LIMIT)}")
    if related.fail_reason:
        reason = escape(related.fail_reason, RELATED_FAIL_REASON_LIMIT)
        head.append(f"*{title('fail_reason', language)}:* {reason}")
    head_text = "\n".join(head)
    sub_room = room - units(head_text) - 1
    if sub_room < 2 * FOLD_RESERVE:
        return None
    subs = sub_flows_text(
        f"{title('sub_flows', language)}: ",
        related.sub_flows,
        RELATED_SUB_FLOW_LINES,
        sub_room,
        language,
    )
    return f"{head_text}\n{subs}"


def related_fold(hidden: int, language: Language = "both") -> str:
    """The line that stands for the related flows left out."""
    if language == "zh":
        return f"_…另有 {hidden} 个关联流程_"
    return f"_…and {hidden} more related flow{plural_s(hidden)}_"
