"""The Workflow Builder step: outputs on success, a plain message on failure, never both."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.web import SlackResponse

from bot.delivery.background import BackgroundWork
from bot.delivery.flow_cards import FlowCards
from bot.delivery.workflow_step import FlowStep, StepRequest
from bot.esign.errors import EsignUnavailable, FlowNotFound
from bot.esign.models import FlowOutline
from bot.flows.cache import FlowLookup
from bot.slack.replies import SlackReplies
from bot.slack.requester import Requester

FLOW = "803719636976683872"
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
WORKFLOW = Requester("T0TEAM", None, None)


class Outlines:
    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.calls = 0

    def get_outline(self, flow_id: str) -> FlowOutline:
        self.calls += 1
        if self.error is not None:
            raise self.error
        return FlowOutline.model_validate(
            {
                "flowId": flow_id,
                "flowStatus": "FAIL",
                "objectType": "INDIVIDUAL",
                "failReason": "银行卡四要素比对不一致",
                "subFlows": [
                    {"subFlowId": "1", "subFlowType": "AUTHCODE", "status": "SUCCESS"},
                    {"subFlowId": "2", "subFlowType": "FACEAUTH_ZMXY", "status": "FAIL"},
                ],
            }
        )


class Finish:
    """Bolt's complete and fail, as plain recorders."""

    def __init__(self) -> None:
        self.done: list[tuple[str, Any]] = []

    def complete(self, outputs: dict[str, Any]) -> SlackResponse:
        self.done.append(("complete", outputs))
        return _ok()

    def fail(self, error: str) -> SlackResponse:
        self.done.append(("fail", error))
        return _ok()


def _ok() -> SlackResponse:
    return SlackResponse(
        client=None,
        http_verb="POST",
        api_url="",
        req_args={},
        data={"ok": True},
        headers={},
        status_code=200,
    )


def _run(outlines: Outlines, flow_id: str | None) -> Finish:
    work = BackgroundWork(1)
    replies = SlackReplies(WebClient(), allow_response_url=lambda _: False)
    cards = FlowCards(FlowLookup(outlines, ttl_seconds=30, max_flows=10))
    finish = Finish()
    FlowStep(cards, replies, work, clock=lambda: NOW).run(
        StepRequest("Fx1", flow_id), requester=WORKFLOW, complete=finish.complete, fail=finish.fail
    )
    assert work.drain(5.0)
    return finish


def test_a_flow_completes_the_step_with_its_facts() -> None:
    [(how, outputs)] = _run(Outlines(), FLOW).done
    assert how == "complete"
    assert outputs == {
        "flow_status": "FAIL",
        "status_label": "Failed · 已失败",
        "object_type": "INDIVIDUAL",
        "fail_reason": "银行卡四要素比对不一致",
        "sub_flows_summary": "1 of 2 succeeded, 1 failed",
        "is_final": True,
        "checked_at": int(NOW.timestamp()),
    }


@pytest.mark.parametrize(
    ("flow_id", "error", "words"),
    [
        ("../etc/passwd", None, "is not an e签宝 flow id"),
        (None, None, "got no flow id"),
        (FLOW, FlowNotFound(FLOW, code=30500101, message="flow not found"), "does not know flow"),
        (FLOW, EsignUnavailable(), "is not answering"),
    ],
)
def test_a_step_that_cannot_check_fails_with_a_plain_message(
    flow_id: str | None, error: Exception | None, words: str
) -> None:
    outlines = Outlines(error)
    [(how, message)] = _run(outlines, flow_id).done
    assert how == "fail" and words in message
    assert "Traceback" not in message
    # A bad id never reaches e签宝.
    assert outlines.calls == (0 if error is None else 1)


def test_finishing_outside_an_execution_is_logged_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    replies = SlackReplies(WebClient(), allow_response_url=lambda _: False)

    def no_execution() -> SlackResponse:
        raise ValueError("complete is unsupported here as there is no function_execution_id")

    assert not replies.finish_step("functions.completeSuccess", no_execution)
    assert "no function execution" in caplog.text
