"""The global error handler: an incident id in the log, and the same id for the person."""

from __future__ import annotations

import json
import logging
import re

import pytest

from bot.delivery.doors import Doors
from bot.slack.reply_target import ReplyTarget
from handlers.errors import handle_error
from tests.handlers.conftest import HOOK, Journal

INCIDENT = re.compile(r"error id: ([0-9a-f]{8})")


def _logged_incidents(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [str(getattr(r, "incident", "")) for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_failed_command_shows_the_incident_id_on_the_ack(
    doors: Doors, journal: Journal, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        response = handle_error(
            RuntimeError("boom"), ReplyTarget(response_url=HOOK, ack_is_shown=True), doors
        )
    assert response.status == 200
    text = json.loads(response.body)["text"]
    shown = INCIDENT.search(text)
    assert shown is not None, text
    assert _logged_incidents(caplog) == [shown.group(1)]
    assert "boom" not in text and "Traceback" not in text
    assert journal.names() == []


def test_a_failed_click_is_told_through_the_response_url(
    doors: Doors, journal: Journal, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        response = handle_error(ValueError("x"), ReplyTarget(response_url=HOOK), doors)
    assert response.status == 200 and response.body == ""
    shown = INCIDENT.search(journal.only("tell")["text"])
    assert shown is not None and _logged_incidents(caplog) == [shown.group(1)]


def test_without_a_reply_address_the_failure_is_only_logged(
    doors: Doors, journal: Journal, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        assert handle_error(KeyError("k"), None, doors).status == 200
        assert handle_error(KeyError("k"), ReplyTarget(), doors).status == 200
    assert journal.names() == []
    assert len(_logged_incidents(caplog)) == 2


class _BrokenDelivery:
    def ack_language(self, user_id: str | None) -> str:
        return "both"

    def private_cards(self, *args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug in the delivery path")


def test_the_handler_is_wired_into_the_app_for_any_listener() -> None:
    from urllib.parse import urlencode

    from slack_bolt import App, BoltRequest
    from slack_bolt.authorization import AuthorizeResult

    import handlers

    def authorize(**_: object) -> AuthorizeResult:
        # Known ids up front: Bolt would otherwise ask Slack's auth.test who the bot is.
        return AuthorizeResult(
            enterprise_id=None, team_id="T0TEAM", bot_token="xoxb-wiring", bot_user_id="U0BOT"
        )

    app = App(
        signing_secret="wiring-test",
        authorize=authorize,
        request_verification_enabled=False,
        process_before_response=True,
    )
    from bot.state.event_receipts import EventReceipts

    doors = Doors(
        messages=_BrokenDelivery(),  # type: ignore[arg-type]
        watches=None,  # type: ignore[arg-type]
        modal=None,  # type: ignore[arg-type]
        home=None,  # type: ignore[arg-type]
        step=None,  # type: ignore[arg-type]
        events=EventReceipts(None),
    )
    handlers.register(app, doors)
    body = urlencode(
        {
            "command": "/esign-flow",
            "text": "803719636976683872",
            "team_id": "T0TEAM",
            "channel_id": "C0SUPPORT",
            "user_id": "U0ASKER",
            "response_url": HOOK,
        }
    )
    response = app.dispatch(
        BoltRequest(body=body, headers={"content-type": ["application/x-www-form-urlencoded"]})
    )
    assert response.status == 200
    assert INCIDENT.search(json.loads(response.body)["text"])
