"""Runs before every listener: refused requests get a polite note and no lookup happens.

Each door says no its own way: a slash command on its ack, a form next to its field, the ⚡
shortcut in a modal, a workflow step by failing with the reason, anything else after the ack.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial

from slack_bolt import App, BoltContext, BoltResponse

from bot.cards import refusal_words, render_refusal
from bot.delivery.audit import record_access_denied
from bot.delivery.doors import Doors
from bot.delivery.workflow_step import Fail
from bot.slack.access import AccessPolicy
from bot.slack.ids import BLOCK_FLOW_IDS
from bot.slack.reply_target import ReplyTarget
from bot.slack.requester import Requester


def register(app: App, doors: Doors, policy: AccessPolicy) -> None:
    if not policy.restricted:
        return

    @app.middleware
    def allow_listed_only(
        context: BoltContext, next: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        # Bolt sets `fail` only for a workflow step's execution.
        fail = context.get("fail") if context.get("step_request") is not None else None
        return check_access(
            context["requester"], context["reply_to"], next, doors, policy, fail_step=fail
        )


def check_access(
    requester: Requester,
    reply_to: ReplyTarget,
    next: Callable[[], BoltResponse],
    doors: Doors,
    policy: AccessPolicy,
    *,
    fail_step: Fail | None = None,
) -> BoltResponse | None:
    refusal = policy.refusal(requester)
    if refusal is None:
        return next()
    record_access_denied(requester)
    note = partial(render_refusal, refusal)
    # Middleware that stops the chain answers Slack itself: the ack is this response. A slash
    # command shows that body to the person; other payloads get the note after the ack. What
    # an ack carries is in a language known now: nothing may be asked before it.
    if reply_to.ack_is_shown:
        ack_note = note(doors.messages.ack_language(requester.user_id))
        return BoltResponse(status=200, body=ack_note.to_message())
    if reply_to.form_submission:
        words = refusal_words(refusal, doors.messages.ack_language(requester.user_id))
        errors = {"response_action": "errors", "errors": {BLOCK_FLOW_IDS: words}}
        return BoltResponse(
            status=200,
            body=json.dumps(errors, ensure_ascii=False),
            headers={"content-type": "application/json; charset=utf-8"},
        )
    if fail_step is not None:
        # Workflow Builder shows it to the workflow's owner, not to whoever ran it: both.
        doors.step.refuse(fail_step, refusal_words(refusal))
    elif reply_to.response_url is not None:
        doors.messages.tell(reply_to, note, user_id=requester.user_id)
    elif reply_to.trigger_id is not None:
        doors.modal.open_note(reply_to.trigger_id, note, user_id=requester.user_id)
    # Else (App Home opened): nowhere to say it; the audit line records the refusal.
    return BoltResponse(status=200, body="")
