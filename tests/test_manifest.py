"""manifest.yml is a valid app manifest, and its commands and shortcuts match our listeners."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jsonschema
import pytest
import yaml
from slack_bolt import App, BoltRequest, BoltResponse

import handlers
from bot.background import BackgroundWork
from bot.delivery import CardDelivery
from bot.esign.models import FlowOutline
from bot.flow_cards import FlowCards
from bot.lookup import FlowLookup
from bot.replies import SlackReplies, response_url_guard
from bot.services import Services
from bot.slack_ids import ACTION_RECHECK, ACTION_SHARE, ACTION_UNWATCH, ACTION_WATCH

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
    delivery = CardDelivery(FlowCards(lookup), replies, BackgroundWork(1))
    handlers.register(app, Services(delivery))
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
    return found


def _button(action_id: str) -> BoltRequest:
    return _payload({"type": "block_actions", "actions": [{"action_id": action_id}]})


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
    buttons = [_button(a) for a in (ACTION_RECHECK, ACTION_SHARE, ACTION_WATCH, ACTION_UNWATCH)]
    for listener in listeners:
        handled = [r for r in [*requests.values(), *buttons] if listener in matching(r)]
        assert handled, f"listener {listener} answers nothing that manifest.yml or a card sends"
    unknown = _form(command="/not-ours", text="")
    assert not matching(unknown)
