"""Workflow Builder's custom step "Check e签宝 flow" (`functions.check_esign_flow`).

Bolt acks the `function_executed` event itself (auto_acknowledge) and injects `complete` and
`fail` bound to a client carrying the workflow's own token; the lookup runs after the ack, so a
slow e签宝 never makes Slack send the event again.
"""

from __future__ import annotations

from slack_bolt import App, Complete, Fail

from bot.delivery.doors import Doors
from bot.delivery.workflow_step import StepRequest
from bot.slack.ids import FUNCTION_CHECK_FLOW
from bot.slack.requester import Requester


def register(app: App, doors: Doors) -> None:
    @app.function(FUNCTION_CHECK_FLOW)
    def on_check_flow_step(
        requester: Requester, step_request: StepRequest | None, complete: Complete, fail: Fail
    ) -> None:
        handle_check_flow_step(doors, requester, step_request, complete, fail)


def handle_check_flow_step(
    doors: Doors,
    requester: Requester,
    step_request: StepRequest | None,
    complete: Complete,
    fail: Fail,
) -> None:
    doors.step.run(
        step_request or StepRequest(execution_id=None, flow_id=None),
        requester=requester,
        complete=complete,
        fail=fail,
    )
