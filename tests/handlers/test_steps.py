"""The Workflow Builder step's listener hands Bolt's complete/fail to the step service."""

from __future__ import annotations

from typing import Any

from bot.delivery.doors import Doors
from bot.delivery.workflow_step import StepRequest
from bot.slack.requester import Requester
from handlers.steps import handle_check_flow_step
from tests.handlers.conftest import FLOW, Journal


def _never(*_: Any) -> Any:
    raise AssertionError("the listener itself finishes nothing")


def test_the_step_runs_with_its_input_and_boltss_complete_and_fail(
    doors: Doors, journal: Journal
) -> None:
    step = StepRequest(execution_id="Fx1", flow_id=FLOW)
    requester = Requester("T0TEAM", None, None)
    handle_check_flow_step(doors, requester, step, _never, _never)  # type: ignore[arg-type]
    run = journal.only("step")
    assert run["step"] == step and run["requester"] == requester
    assert run["complete"] is _never and run["fail"] is _never


def test_a_payload_without_step_facts_still_reaches_the_step_service(
    doors: Doors, journal: Journal
) -> None:
    handle_check_flow_step(doors, Requester(None, None, None), None, _never, _never)  # type: ignore[arg-type]
    assert journal.only("step")["step"] == StepRequest(execution_id=None, flow_id=None)
