"""The context middleware on the payload shapes Slack sends, and on shapes it never sends."""

from __future__ import annotations

from typing import Any

import pytest

from bot.delivery.workflow_step import StepRequest
from bot.slack.button_value import BadRequesterPart, ButtonValue, MalformedButtonValue
from bot.slack.reply_target import ReplyTarget, ViewRef
from bot.slack.requester import Requester
from handlers.context import ListenerContext, SlackEvent, read_context
from tests.handlers.conftest import FLOW, HOOK

THREAD = "1764354000.000100"


def test_a_slash_command() -> None:
    read = read_context(
        {
            "command": "/esign-flow",
            "text": FLOW,
            "team_id": "T0TEAM",
            "channel_id": "C0SUPPORT",
            "channel_name": "support",
            "user_id": "U0ASKER",
            "response_url": HOOK,
        }
    )
    assert read.requester == Requester("T0TEAM", "C0SUPPORT", "U0ASKER")
    assert read.reply_to == ReplyTarget(
        response_url=HOOK, channel_id="C0SUPPORT", ack_is_shown=True
    )
    assert read.request_text == FLOW
    assert read.click is None


def test_a_message_shortcut_answers_in_the_messages_thread() -> None:
    body = {
        "type": "message_action",
        "team": {"id": "T0TEAM"},
        "channel": {"id": "C0SUPPORT", "name": "support"},
        "user": {"id": "U0ASKER"},
        "message": {"ts": "1764354100.000200", "thread_ts": THREAD, "text": f"see {FLOW}"},
        "response_url": HOOK,
    }
    read = read_context(body)
    assert read.reply_to.thread_ts == THREAD
    assert read.reply_to.channel_id == "C0SUPPORT" and not read.reply_to.ephemeral
    assert read.request_text == f"see {FLOW}"
    # A top-level message is its own thread's parent.
    body["message"] = {"ts": "1764354100.000200", "text": FLOW}
    assert read_context(body).reply_to.thread_ts == "1764354100.000200"


def _click(value: object, **extra: Any) -> dict[str, Any]:
    return {
        "type": "block_actions",
        "team": {"id": "T0TEAM"},
        "user": {"id": "U0CLICKER"},
        "channel": {"id": "C0SUPPORT", "name": "support"},
        "container": {"type": "message", "channel_id": "C0SUPPORT", "message_ts": "1.2"},
        "actions": [{"action_id": "esign_flow_recheck", "value": value}],
        "response_url": HOOK,
        **extra,
    }


def test_a_click_on_a_posted_card_carries_its_thread_and_requester() -> None:
    read = read_context(_click(f"{FLOW}|{THREAD}|U0ORIGINAL", message={"ts": "1.2"}))
    assert read.click == ButtonValue(FLOW, THREAD, "U0ORIGINAL")
    assert read.requester == Requester("T0TEAM", "C0SUPPORT", "U0CLICKER")
    assert read.reply_to.thread_ts == THREAD
    assert read.reply_to.posted_message == ("C0SUPPORT", "1.2")


def test_a_click_on_a_private_card_in_a_dm() -> None:
    body = _click(FLOW, channel={"id": "D024BE91L", "name": "directmessage"})
    body["container"] = {"type": "message", "channel_id": "D024BE91L", "is_ephemeral": True}
    read = read_context(body)
    assert read.reply_to.ephemeral and read.reply_to.direct_message
    assert read.reply_to.posted_message is None and not read.reply_to.can_share


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (f"{FLOW}||<!channel>", BadRequesterPart),
        (None, MalformedButtonValue),
        ("x" * 500, MalformedButtonValue),
    ],
)
def test_a_forged_button_value_becomes_a_named_problem(value: object, problem: type) -> None:
    read = read_context(_click(value))
    assert isinstance(read.click, problem)
    assert read.reply_to.thread_ts is None


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"type": "block_actions"},
        {"type": "block_actions", "actions": "nope", "container": 5, "user": "U0ASKER"},
        {"type": "message_action", "message": ["x"], "channel": None},
        {"command": "/esign-flow", "team_id": 7, "user_id": "<!here>", "response_url": 3},
    ],
)
def test_malformed_payloads_become_missing_facts_never_errors(body: dict[str, Any]) -> None:
    read = read_context(body)
    assert read.requester.user_id is None
    assert read.reply_to.response_url is None


def test_a_global_shortcut_has_only_a_trigger() -> None:
    read = read_context(
        {
            "type": "shortcut",
            "callback_id": "esign_flow_check_global",
            "trigger_id": "1.2.abc",
            "team": {"id": "T0TEAM"},
            "user": {"id": "U0ASKER"},
        }
    )
    assert read.requester == Requester("T0TEAM", None, "U0ASKER")
    assert read.reply_to == ReplyTarget(trigger_id="1.2.abc")


def test_a_modal_submission_brings_the_typed_ids_and_the_picked_conversation() -> None:
    read = read_context(
        {
            "type": "view_submission",
            "team": {"id": "T0TEAM"},
            "user": {"id": "U0ASKER"},
            "view": {
                "id": "V0MODAL",
                "type": "modal",
                "hash": "h1",
                "callback_id": "esign_flow_check_modal",
                "state": {
                    "values": {
                        "esign_flow_ids": {"esign_flow_ids_input": {"value": f" {FLOW} "}},
                        "esign_flow_also_post": {
                            "esign_flow_also_post_select": {"selected_conversation": "C0PICKED"}
                        },
                    }
                },
            },
            "response_urls": [
                {"block_id": "esign_flow_also_post", "channel_id": "C0PICKED", "response_url": HOOK}
            ],
        }
    )
    assert read.request_text == f" {FLOW} "
    assert read.requester == Requester("T0TEAM", "C0PICKED", "U0ASKER")
    assert read.reply_to == ReplyTarget(
        response_url=HOOK,
        channel_id="C0PICKED",
        view=ViewRef(view_id="V0MODAL", kind="modal", hash="h1"),
        form_submission=True,
    )


def test_a_submission_with_nothing_picked_or_typed() -> None:
    read = read_context({"type": "view_submission", "view": {"id": "V1", "type": "modal"}})
    assert read.request_text is None
    assert read.reply_to.response_url is None and read.reply_to.view is not None


def test_a_recheck_inside_the_modal_knows_the_view_and_its_flows() -> None:
    read = read_context(
        {
            "type": "block_actions",
            "team": {"id": "T0TEAM"},
            "user": {"id": "U0ASKER"},
            "container": {"type": "view", "view_id": "V0MODAL"},
            "view": {
                "id": "V0MODAL",
                "type": "modal",
                "hash": "h2",
                "private_metadata": f"{FLOW},../x,{FLOW}1",
            },
            "actions": [{"action_id": "esign_flow_recheck", "value": FLOW}],
            "trigger_id": "3.4.def",
        }
    )
    assert read.click == ButtonValue(FLOW)
    assert read.reply_to.view == ViewRef("V0MODAL", "modal", "h2", (FLOW, f"{FLOW}1"))
    assert not read.reply_to.ephemeral and read.reply_to.posted_message is None
    assert read.reply_to.trigger_id == "3.4.def"


def test_a_picked_option_on_the_home_tab() -> None:
    read = read_context(
        {
            "type": "block_actions",
            "user": {"id": "U0ASKER"},
            "container": {"type": "view", "view_id": "V0HOME"},
            "view": {"id": "V0HOME", "type": "home"},
            "actions": [
                {"action_id": "esign_flow_home_language", "selected_option": {"value": "zh"}}
            ],
        }
    )
    assert read.choice == "zh"
    assert read.reply_to.view is not None and read.reply_to.view.kind == "home"


def test_app_home_opened_and_its_retry() -> None:
    body = {
        "type": "event_callback",
        "team_id": "T0TEAM",
        "event_id": "Ev0HOME",
        "event": {"type": "app_home_opened", "user": "U0ASKER", "channel": "D0APP", "tab": "home"},
    }
    read = read_context(body, retry_num=2)
    assert read.requester == Requester("T0TEAM", "D0APP", "U0ASKER")
    assert read.slack_event == SlackEvent("Ev0HOME", "app_home_opened", tab="home", retry_num=2)
    assert read.step_request is None


def test_function_executed_brings_the_execution_and_its_input() -> None:
    body = {
        "type": "event_callback",
        "team_id": "T0TEAM",
        "event_id": "Ev0STEP",
        "event": {
            "type": "function_executed",
            "function": {"callback_id": "check_esign_flow"},
            "inputs": {"flow_id": FLOW},
            "function_execution_id": "Fx0RUN",
            "bot_access_token": "xwfp-not-read-here",
        },
    }
    read = read_context(body)
    assert read.step_request == StepRequest(execution_id="Fx0RUN", flow_id=FLOW)
    assert read.request_text == FLOW
    body["event"]["inputs"] = {"flow_id": 42}  # type: ignore[index]
    assert read_context(body).step_request == StepRequest(execution_id="Fx0RUN", flow_id=None)


def test_every_fact_reaches_a_listener_under_its_own_name() -> None:
    """Bolt fills arguments it knows itself (`step`, `event`, `view`, ...) before looking in the
    context, so a fact under one of those names would never reach the listener."""
    import dataclasses
    import logging

    from slack_bolt import BoltRequest
    from slack_bolt.kwargs_injection.utils import build_required_kwargs

    names = [f.name for f in dataclasses.fields(ListenerContext)]
    request = BoltRequest(body="{}", headers={"content-type": ["application/json"]})
    for name in names:
        request.context[name] = f"fact:{name}"
    given = build_required_kwargs(
        logger=logging.getLogger(__name__),
        required_arg_names=list(names),
        request=request,
        response=None,
    )
    assert given == {name: f"fact:{name}" for name in names}


def test_the_middleware_reads_the_retry_header_of_an_event_only() -> None:
    from slack_bolt import BoltRequest, BoltResponse

    from handlers.context import ListenerContextMiddleware

    body = '{"type": "event_callback", "event_id": "Ev1", "event": {"type": "app_home_opened"}}'
    request = BoltRequest(
        body=body, headers={"content-type": ["application/json"], "x-slack-retry-num": ["2"]}
    )
    ListenerContextMiddleware().process(
        req=request, resp=BoltResponse(status=200), next=lambda: BoltResponse(status=200)
    )
    assert request.context["slack_event"].retry_num == 2
    assert request.context["slack_event"].event_id == "Ev1"
