"""Workflow Builder's custom step "Check e签宝 flow" (`functions.check_esign_flow`).

Bolt acks the `function_executed` event itself (auto_acknowledge) and injects `complete` and
`fail` bound to a client carrying the workflow's own token; the lookup runs after the ack, so a
slow e签宝 never makes Slack send the event again.
"""

from __future__ import annotations

from slack_bolt import App, Complete, Fail

from bot.audit import Requester
from bot.services import Services
from bot.slack_ids import FUNCTION_CHECK_FLOW
from bot.workflow_step import StepRequest


def register(app: App, services: Services) -> None:
    @app.function(FUNCTION_CHECK_FLOW)
    def on_check_flow_step(
        requester: Requester, step_request: StepRequest | None, complete: Complete, fail: Fail
    ) -> None:
        handle_check_flow_step(services, requester, step_request, complete, fail)


def handle_check_flow_step(
    services: Services,
    requester: Requester,
    step_request: StepRequest | None,
    complete: Complete,
    fail: Fail,
) -> None:
    services.step.run(
        step_request or StepRequest(execution_id=None, flow_id=None),
        requester=requester,
        complete=complete,
        fail=fail,
    )
