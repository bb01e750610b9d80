"""The allow-list middleware: a refused person gets a note, and the listener never runs."""

from __future__ import annotations

import json
import logging

import pytest
from slack_bolt import BoltResponse

from bot.delivery.doors import Doors
from bot.slack.access import AccessPolicy
from bot.slack.reply_target import ReplyTarget
from handlers.access import check_access
from tests.handlers.conftest import ASKER, HOOK, Journal

ALLOWED_HERE = AccessPolicy(channel_ids=["C0SUPPORT"])
ELSEWHERE = AccessPolicy(channel_ids=["C0ONCALL"])


def _next(journal: Journal) -> BoltResponse:
    journal.events.append(("listener", {}))
    return BoltResponse(status=200)


def test_an_allowed_request_reaches_its_listener(doors: Doors, journal: Journal) -> None:
    reply_to = ReplyTarget(response_url=HOOK, ack_is_shown=True)
    check_access(ASKER, reply_to, lambda: _next(journal), doors, ALLOWED_HERE)
    assert journal.names() == ["listener"]


def test_a_refused_command_is_answered_on_the_ack_and_audited(
    doors: Doors, journal: Journal, caplog: pytest.LogCaptureFixture
) -> None:
    reply_to = ReplyTarget(response_url=HOOK, ack_is_shown=True)
    with caplog.at_level(logging.INFO, logger="esign_flow.audit"):
        response = check_access(ASKER, reply_to, lambda: _next(journal), doors, ELSEWHERE)
    assert journal.names() == []
    assert response is not None and response.status == 200
    assert "not enabled in this channel" in json.loads(response.body)["text"]
    denied = [json.loads(r.getMessage()) for r in caplog.records if "access_denied" in r.message]
    assert denied == [
        {"event": "access_denied", "team": "T0TEAM", "channel": "C0SUPPORT", "user": "U0ASKER"}
    ]


def test_a_refused_click_is_told_after_an_empty_ack(doors: Doors, journal: Journal) -> None:
    reply_to = ReplyTarget(response_url=HOOK, channel_id="C0SUPPORT", ephemeral=True)
    response = check_access(
        ASKER, reply_to, lambda: _next(journal), doors, AccessPolicy(user_ids=["U0SOMEONE"])
    )
    assert response is not None and response.status == 200 and response.body == ""
    assert journal.names() == ["tell"]
    assert "not on the list of people" in journal.only("tell")["text"]


REFUSE_ALL = AccessPolicy(user_ids=["U0SOMEONE"])


def test_a_refused_form_is_told_next_to_its_field(doors: Doors, journal: Journal) -> None:
    reply_to = ReplyTarget(form_submission=True)
    response = check_access(ASKER, reply_to, lambda: _next(journal), doors, REFUSE_ALL)
    assert response is not None and journal.names() == []
    answer = json.loads(response.body)
    assert answer["response_action"] == "errors"
    assert "not on the list of people" in answer["errors"]["esign_flow_ids"]


def test_a_refused_global_shortcut_gets_a_modal_saying_so(doors: Doors, journal: Journal) -> None:
    check_access(ASKER, ReplyTarget(trigger_id="1.2.x"), lambda: _next(journal), doors, REFUSE_ALL)
    assert journal.names() == ["open_note"]
    assert journal.only("open_note")["trigger_id"] == "1.2.x"


def test_a_refused_workflow_step_fails_with_the_reason(doors: Doors, journal: Journal) -> None:
    def fail(message: str) -> None:
        raise AssertionError("failed through the step service, not here")

    check_access(ASKER, ReplyTarget(), lambda: _next(journal), doors, REFUSE_ALL, fail_step=fail)
    assert journal.names() == ["step_refused"]
    assert "not on the list of people" in journal.only("step_refused")["message"]
