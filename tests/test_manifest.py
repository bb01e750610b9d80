"""manifest.yml is a valid app manifest, and its commands and shortcuts match our listeners."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jsonschema
import pytest
import yaml
from slack_bolt import App, BoltRequest, BoltResponse

import handlers
from bot.delivery.background import BackgroundWork
from bot.delivery.doors import Doors
from bot.delivery.flow_cards import FlowCards
from bot.delivery.home import HomeTab
from bot.delivery.messages import MessageDelivery
from bot.delivery.modal import ModalDelivery
from bot.delivery.watches import WatchDelivery
from bot.delivery.workflow_step import FlowStep
from bot.esign.models import FlowOutline
from bot.flows.cache import FlowLookup
from bot.slack.ids import (
    ACTION_DIGEST_RECHECK,
    ACTION_HOME_CLEAR,
    ACTION_HOME_LANGUAGE,
    ACTION_HOME_OPEN_MODAL,
    ACTION_HOME_RECHECK,
    ACTION_RECHECK,
    ACTION_SHARE,
    ACTION_UNWATCH,
    ACTION_WATCH,
    EVENT_APP_HOME_OPENED,
    EVENT_FUNCTION_EXECUTED,
    FUNCTION_CHECK_FLOW,
    SHORTCUT_CHECK_FLOW,
    STEP_INPUT_FLOW_ID,
    STEP_OUTPUTS,
    VIEW_CHECK_FLOW,
)
from bot.slack.replies import SlackReplies, response_url_guard
from bot.state.event_receipts import EventReceipts
from bot.state.history import PersonalHistory
from bot.state.sqlite_store import SqliteStateStore

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT.parent / "shared" / "schemas" / "slack-app-manifest.schema.json"


def manifest() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "manifest.yml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


@pytest.mark.skipif(not SCHEMA.exists(), reason="the manifest schema is not beside the checkout")
def test_manifest_validates_against_slacks_schema() -> None:
    jsonschema.validate(manifest(), json.loads(SCHEMA.read_text(encoding="utf-8")))


def test_manifest_limits_and_scopes() -> None:
    data = manifest()
    assert len(data["display_information"]["name"]) <= 35
    assert data["settings"]["interactivity"]["is_enabled"] is True
    assert set(data["oauth_config"]["scopes"]["bot"]) == {
        "commands",
        "chat:write",
        "chat:write.public",
        "im:write",  # a watch on a private card sends its notices by DM
        "users:read",  # the Slack locale of someone who never chose a language
        "channels:history",  # automatic answers in public channels the bot is in
        "groups:history",  # and in private ones
        "links:read",  # link_shared for the unfurl domains
        "links:write",  # chat.unfurl
    }
    for shortcut in data["features"]["shortcuts"]:
        assert len(shortcut["description"]) <= 150


class _NoOutlines:
    def get_outline(self, flow_id: str) -> FlowOutline:
        raise AssertionError("no lookup is made while matching listeners")


def _registered_app() -> App:
    from slack_sdk import WebClient

    app = App(
        signing_secret="manifest-test", token="xoxb-manifest", token_verification_enabled=False
    )
    lookup = FlowLookup(_NoOutlines(), ttl_seconds=1, max_flows=1)
    replies = SlackReplies(
        WebClient(), allow_response_url=response_url_guard("https://slack.com/api/")
    )
    cards, work = FlowCards(lookup), BackgroundWork(1)
    modal = ModalDelivery(cards, replies, work)
    history = PersonalHistory(SqliteStateStore(":memory:"))
    handlers.register(
        app,
        Doors(
            messages=MessageDelivery(cards, replies, work, modal=modal),
            watches=WatchDelivery(cards, replies, work),
            modal=modal,
            home=HomeTab(history, cards, replies, work),
            step=FlowStep(cards, replies, work),
            events=EventReceipts(None),
        ),
    )
    return app


def _form(**fields: str) -> BoltRequest:
    return BoltRequest(
        body=urlencode(fields), headers={"content-type": ["application/x-www-form-urlencoded"]}
    )


def _payload(payload: dict[str, Any]) -> BoltRequest:
    return _form(payload=json.dumps(payload))


def _requests_from_manifest() -> dict[str, BoltRequest]:
    features = manifest()["features"]
    found = {
        f"command {c['command']}": _form(command=c["command"], text="help")
        for c in features["slash_commands"]
    }
    for shortcut in features["shortcuts"]:
        kind = "message_action" if shortcut["type"] == "message" else "shortcut"
        found[f"shortcut {shortcut['callback_id']}"] = _payload(
            {"type": kind, "callback_id": shortcut["callback_id"]}
        )
    for event in manifest()["settings"]["event_subscriptions"]["bot_events"]:
        # `message.channels` and `message.groups` subscribe to one event type: `message`.
        kind = event.split(".")[0]
        if event != EVENT_FUNCTION_EXECUTED:  # a function's event is matched per function below
            found[f"event {event}"] = _event({"type": kind, **_EVENT_FIELDS.get(event, {})})
    for callback_id in manifest().get("functions", {}):
        found[f"function {callback_id}"] = _event(
            {
                "type": EVENT_FUNCTION_EXECUTED,
                "function": {"callback_id": callback_id},
                "function_execution_id": "Fx0MANIFEST",
            }
        )
    return found


#: What makes an event reach its listener (the events middleware drops the rest first).
_EVENT_FIELDS: dict[str, dict[str, Any]] = {
    "message.channels": {
        "channel": "C0TEAM",
        "user": "U0SAYS",
        "ts": "1.2",
        "text": "flow 803719636976683872",
        "channel_type": "channel",
    },
    "message.groups": {
        "channel": "G0TEAM",
        "user": "U0SAYS",
        "ts": "1.2",
        "text": "flow 803719636976683872",
        "channel_type": "group",
    },
    "link_shared": {"channel": "C0TEAM", "links": []},
}


def _event(event: dict[str, Any]) -> BoltRequest:
    body = {"type": "event_callback", "team_id": "T0TEAM", "event_id": "Ev0", "event": event}
    return BoltRequest(body=json.dumps(body), headers={"content-type": ["application/json"]})


def _button(action_id: str) -> BoltRequest:
    return _payload({"type": "block_actions", "actions": [{"action_id": action_id}]})


#: What the bot's own cards and views send back: buttons, and the modal's submission.
_FROM_OUR_VIEWS = [
    _button(ACTION_RECHECK),
    _button(ACTION_DIGEST_RECHECK),
    _button(ACTION_SHARE),
    _button(ACTION_WATCH),
    _button(ACTION_UNWATCH),
    _button(ACTION_HOME_RECHECK),
    _button(ACTION_HOME_CLEAR),
    _button(ACTION_HOME_LANGUAGE),
    _button(ACTION_HOME_OPEN_MODAL),
    _payload(
        {"type": "view_submission", "view": {"type": "modal", "callback_id": VIEW_CHECK_FLOW}}
    ),
]


def test_the_home_tab_events_and_the_step_agree_with_the_code() -> None:
    data = manifest()
    settings = data["settings"]
    assert data["features"]["app_home"]["home_tab_enabled"] is True
    assert EVENT_APP_HOME_OPENED in settings["event_subscriptions"]["bot_events"]
    assert settings["event_subscriptions"]["request_url"].endswith("/slack/events")
    assert settings["function_runtime"] == "remote"
    assert settings["org_deploy_enabled"] is True
    assert EVENT_FUNCTION_EXECUTED in settings["event_subscriptions"]["bot_events"]
    step = data["functions"][FUNCTION_CHECK_FLOW]
    assert set(step["input_parameters"]["properties"]) == {STEP_INPUT_FLOW_ID}
    assert step["input_parameters"]["required"] == [STEP_INPUT_FLOW_ID]
    outputs = step["output_parameters"]["properties"]
    assert tuple(outputs) == STEP_OUTPUTS
    assert outputs["is_final"]["type"] == "boolean"
    global_shortcuts = [s for s in data["features"]["shortcuts"] if s["type"] == "global"]
    assert [s["callback_id"] for s in global_shortcuts] == [SHORTCUT_CHECK_FLOW]


def test_channel_events_scopes_and_unfurl_domains_agree() -> None:
    data = manifest()
    events = data["settings"]["event_subscriptions"]["bot_events"]
    assert {"message.channels", "message.groups", "link_shared"} <= set(events)
    domains = data["features"]["unfurl_domains"]
    assert 1 <= len(domains) <= 5
    for domain in domains:
        # A host only (Slack refuses a scheme or a path), and the placeholder a reserved name
        # (RFC 2606) that can never be someone else's site.
        assert re.fullmatch(
            r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+", domain
        )
        assert domain.endswith(".example.com") or domain == "example.com", domain
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "unfurl_domains" in readme and domains[0] in readme


def test_the_steps_outputs_are_the_manifests() -> None:
    from datetime import UTC, datetime

    from bot.cards.step import step_outputs
    from bot.flows.snapshot import FlowSnapshot

    outline = FlowOutline.model_validate({"flowId": "803719636976683872", "flowStatus": "ING"})
    now = datetime.now(UTC)
    produced = step_outputs(FlowSnapshot(outline, now, from_cache=False), checked_at=now)
    declared = manifest()["functions"][FUNCTION_CHECK_FLOW]["output_parameters"]["properties"]
    assert set(produced) == set(declared)


def test_every_manifest_entry_has_a_listener_and_every_listener_an_entry() -> None:
    app = _registered_app()
    listeners = app._listeners  # Bolt keeps no public list of listeners
    requests = _requests_from_manifest()

    def matching(request: BoltRequest) -> list[object]:
        return [
            listener
            for listener in listeners
            if all(m.matches(request, BoltResponse(status=200)) for m in listener.matchers)
        ]

    for name, request in requests.items():
        assert matching(request), f"{name} is in manifest.yml but no listener handles it"
    for listener in listeners:
        handled = [r for r in [*requests.values(), *_FROM_OUR_VIEWS] if listener in matching(r)]
        assert handled, f"listener {listener} answers nothing that manifest.yml or a card sends"
    unknown = _form(command="/not-ours", text="")
    assert not matching(unknown)
