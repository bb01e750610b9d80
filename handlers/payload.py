"""Safe reads from Slack payloads: a missing or mistyped field gives None, never an exception."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs


def field(payload: object, *path: str) -> Any:
    value: Any = payload
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def text_field(payload: object, *path: str) -> str | None:
    value = field(payload, *path)
    return value if isinstance(value, str) and value else None


def in_direct_message(payload: object) -> bool:
    """A direct message (or group DM) between people: no bot can be invited to post there.

    Interaction payloads carry `channel: {id, name}` (and `container.channel_id`), slash
    commands flat `channel_id` and `channel_name`. DM ids start with D and are named
    "directmessage"; group DMs are named "mpdm-…".
    """
    channel_id = (
        text_field(payload, "channel", "id")
        or text_field(payload, "container", "channel_id")
        or text_field(payload, "channel_id")
        or ""
    )
    name = text_field(payload, "channel", "name") or text_field(payload, "channel_name") or ""
    return channel_id.startswith("D") or name == "directmessage" or name.startswith("mpdm-")


#: Fields Bolt reads as objects while routing, before any listener could check them.
_OBJECT_FIELDS = ("user", "team", "channel", "container", "message", "view", "enterprise")
_TEXT_FIELDS = ("type", "callback_id", "response_url", "trigger_id", "api_app_id")


def malformed_request(body: str, content_type: str) -> str | None:
    """Why a Slack request body cannot be routed safely, or None when its shape is fine.

    Slack never sends these shapes; a crafted one would otherwise crash Bolt's routing with an
    HTTP 500 before our listeners could answer.
    """
    if content_type == "application/json":
        return None if isinstance(_json(body), dict) else "the body is not a JSON object"
    form = parse_qs(body, keep_blank_values=True)
    if "payload" not in form:
        return None  # a slash command: plain form fields, checked by the handler
    payload = _json(form["payload"][0])
    if not isinstance(payload, dict):
        return "the payload is not a JSON object"
    for name in _TEXT_FIELDS:
        if name in payload and not isinstance(payload[name], str):
            return f"`{name}` is not text"
    if not isinstance(payload.get("type"), str):
        return "the payload has no type"
    for name in _OBJECT_FIELDS:
        # Slack sends some of these as null, or as a bare id string in older payloads.
        if not isinstance(payload.get(name), dict | str | None):
            return f"`{name}` is not an object"
    view = payload.get("view")
    # Bolt reads a submitted view's type while routing (workflow_step or not).
    if payload["type"] in ("view_submission", "view_closed") and not (
        isinstance(view, dict) and isinstance(view.get("type"), str)
    ):
        return "the view has no type"
    authorizations = payload.get("authorizations")
    if authorizations is not None and not (
        isinstance(authorizations, list) and all(isinstance(a, dict) for a in authorizations)
    ):
        return "`authorizations` is not a list of objects"
    actions = payload.get("actions")
    if actions is not None and not (
        isinstance(actions, list)
        and all(isinstance(a, dict) and isinstance(a.get("action_id"), str) for a in actions)
    ):
        return "`actions` is not a list of actions"
    return None


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None
