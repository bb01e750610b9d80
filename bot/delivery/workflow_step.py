"""The Workflow Builder step "Check e签宝 flow": one flow id in, the flow's facts out.

Bolt acks the `function_executed` event itself; the lookup runs after, on the background pool,
and the step ends with `functions.completeSuccess` (outputs) or `functions.completeError` (a
plain message). Both calls go out with the client Bolt injected for this execution, which carries
the workflow's own just-in-time token (`xwfp-…`), never the bot's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from slack_sdk.web import SlackResponse

from bot.cards.step import step_failure_message, step_outputs
from bot.delivery.background import BackgroundWork
from bot.delivery.flow_cards import FlowCards
from bot.esign.errors import InvalidFlowId
from bot.esign.flow_id import validate_flow_id
from bot.slack.replies import SlackReplies
from bot.slack.requester import Requester

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StepRequest:
    """One execution of the step, as the `function_executed` event carries it."""

    execution_id: str | None
    #: The step's `flow_id` input as the workflow filled it in (None when missing or not text).
    flow_id: str | None


#: Bolt's `complete(outputs)` and `fail(error)`, bound to this execution and to the client Bolt
#: injected for it (the workflow's token).
Complete = Callable[[dict[str, Any]], SlackResponse]
Fail = Callable[[str], SlackResponse]


class FlowStep:
    def __init__(
        self,
        cards: FlowCards,
        replies: SlackReplies,
        work: BackgroundWork,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._cards = cards
        self._replies = replies
        self._work = work
        self._clock = clock

    def run(
        self, step: StepRequest, *, requester: Requester, complete: Complete, fail: Fail
    ) -> None:
        """Everything after the ack (Bolt's, with process_before_response the HTTP answer waits
        for this listener): even finishing a bad id is a Web API call."""

        def succeed(outputs: dict[str, Any]) -> None:
            self._replies.finish_step("functions.completeSuccess", lambda: complete(outputs))

        def give_up(message: str) -> None:
            self._replies.finish_step("functions.completeError", lambda: fail(message))

        self._run(step, requester, succeed, give_up)

    def refuse(self, fail: Fail, message: str) -> None:
        """End the step at once with `message` (the workflow may not use the bot)."""
        if not self._work.submit(
            lambda: self._replies.finish_step("functions.completeError", lambda: fail(message))
        ):
            log.warning("workflow step refusal not sent while shutting down")

    def _run(
        self,
        step: StepRequest,
        requester: Requester,
        complete: Callable[[dict[str, Any]], None],
        fail: Callable[[str], None],
    ) -> None:
        def check() -> None:
            # A bad id ends here, before any e签宝 call (and, like the rest, after the ack).
            try:
                flow_id = validate_flow_id(step.flow_id or "")
            except InvalidFlowId as problem:
                fail(step_failure_message(problem, flow_id=step.flow_id))
                return
            outcome = self._cards.look_up(flow_id, requester=requester, trigger="workflow_step")
            if outcome.snapshot is not None:
                complete(step_outputs(outcome.snapshot, checked_at=self._clock()))
                return
            fail(step_failure_message(outcome.error, flow_id=flow_id))

        if not self._work.submit(check):
            log.warning("workflow step refused while shutting down")
            fail(step_failure_message(None, flow_id=step.flow_id, restarting=True))
