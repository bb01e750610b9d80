"""The requests Slack sends to the bot: slash commands, message shortcuts, block_actions.

Bodies carry the fields real Slack sends (checked against Slack's payload references and
public captures), and are signed the way Slack signs them: `X-Slack-Signature: v0=` +
HMAC-SHA256 of `v0:{timestamp}:{raw body}` with the signing secret, and
`X-Slack-Request-Timestamp`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx

from .web_api import wire_message
from .workspace import APP_ID, Channel, Message, User, interactive_elements

#: Slack gives up on an acknowledgement after 3 seconds.
ACK_DEADLINE_SECONDS = 3.0
#: Legacy verification token: still in every payload, never to be trusted by the bot.
VERIFICATION_TOKEN = "playgroundVerificationToken0"  # noqa: S105 - public, by design


@dataclass(frozen=True, slots=True)
class SlackExchange:
    """One request Slack sent to the bot, and how the bot acknowledged it."""

    #: HTTP status of the bot's answer; 0 when the bot could not be reached.
    status: int
    body: str
    #: Seconds from sending the request to having the whole answer.
    elapsed: float
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def acked_in_time(self) -> bool:
        """What Slack checks: HTTP 200 within 3 seconds."""
        return self.status == 200 and self.elapsed <= ACK_DEADLINE_SECONDS

    def json(self) -> Any:
        return json.loads(self.body)


class RequestSigner:
    def __init__(self, signing_secret: str) -> None:
        self._secret = signing_secret.encode("utf-8")

    def sign(self, body: bytes, timestamp: int | None = None) -> dict[str, str]:
        """X-Slack-Signature and X-Slack-Request-Timestamp headers for `body`."""
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        base = b"v0:" + stamp.encode() + b":" + body
        digest = hmac.new(self._secret, base, hashlib.sha256).hexdigest()
        return {"X-Slack-Signature": f"v0={digest}", "X-Slack-Request-Timestamp": stamp}


class BotLink:
    """Posts signed requests to the bot's events URL, the way Slack's servers do."""

    def __init__(self, signer: RequestSigner, *, timeout: float = 10.0) -> None:
        self._signer = signer
        # Slack waits 3 s; waiting longer lets a test see how late a slow ack really was.
        # A fresh connection per request: a pooled one can race the server's keep-alive
        # close and fail with "server disconnected", which Slack would not show a user.
        self._client = httpx.Client(
            timeout=timeout,
            headers={"User-Agent": _USER_AGENT},
            limits=httpx.Limits(max_keepalive_connections=0),
        )

    def close(self) -> None:
        self._client.close()

    def send_form(self, url: str, body: bytes) -> SlackExchange:
        headers = {"Content-Type": "application/x-www-form-urlencoded", **self._signer.sign(body)}
        return self.send_raw(url, body, headers)

    def send_raw(self, url: str, body: bytes, headers: Mapping[str, str]) -> SlackExchange:
        started = time.perf_counter()
        try:
            response = self._client.post(url, content=body, headers=dict(headers))
        except httpx.HTTPError as failure:
            return SlackExchange(0, f"{type(failure).__name__}: {failure}", _since(started))
        return SlackExchange(
            response.status_code, response.text, _since(started), dict(response.headers)
        )


_USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots) [playground stand-in]"


def _since(started: float) -> float:
    return time.perf_counter() - started


def new_trigger_id() -> str:
    return f"{int(time.time())}.{secrets.randbelow(10**12)}.{secrets.token_hex(16)}"


def action_ts() -> str:
    now = time.time()
    return f"{now:.6f}"


def slash_command_fields(
    *,
    command: str,
    text: str,
    team_id: str,
    team_domain: str,
    channel: Channel,
    user: User,
    response_url: str,
) -> dict[str, str]:
    """A slash command's fields, in Slack's order: POSTed as a form over HTTP, and sent as the
    payload of a `slash_commands` envelope in Socket Mode (all values strings, in both)."""
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "team_domain": team_domain,
        "channel_id": channel.id,
        "channel_name": channel.name,
        "user_id": user.id,
        "user_name": user.name,
        "command": command,
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": new_trigger_id(),
    }


def form_body(fields: Mapping[str, str]) -> bytes:
    """Fields as the form Slack POSTs (`application/x-www-form-urlencoded`)."""
    return urlencode(fields).encode("utf-8")


def slash_command_body(
    *,
    command: str,
    text: str,
    team_id: str,
    team_domain: str,
    channel: Channel,
    user: User,
    response_url: str,
) -> bytes:
    """The form Slack posts for a slash command (same field order as Slack's)."""
    return form_body(
        slash_command_fields(
            command=command,
            text=text,
            team_id=team_id,
            team_domain=team_domain,
            channel=channel,
            user=user,
            response_url=response_url,
        )
    )


def interaction_body(payload: Mapping[str, Any]) -> bytes:
    """Interactions arrive as a form with one field, `payload`, holding the JSON."""
    return form_body({"payload": json.dumps(payload, ensure_ascii=False)})


def message_action_payload(
    *,
    callback_id: str,
    team_id: str,
    team_domain: str,
    channel: Channel,
    user: User,
    message: Message,
    reply_count: int,
    parent_user_id: str | None,
    response_url: str,
) -> dict[str, Any]:
    wire = wire_message(message, team_id)
    if message.thread_ts is not None:
        if parent_user_id is not None:
            wire["parent_user_id"] = parent_user_id
    elif reply_count:
        # A thread's parent carries its own ts as thread_ts once it has replies.
        wire.update(thread_ts=message.ts, reply_count=reply_count)
    return {
        "type": "message_action",
        "token": VERIFICATION_TOKEN,
        "action_ts": action_ts(),
        "team": {"id": team_id, "domain": team_domain},
        "user": {"id": user.id, "name": user.name},
        "channel": _channel_ref(channel),
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": new_trigger_id(),
        "response_url": response_url,
        "message_ts": message.ts,
        "message": wire,
    }


def block_actions_payload(
    *,
    team_id: str,
    team_domain: str,
    channel: Channel,
    user: User,
    message: Message,
    action_id: str,
    response_url: str,
) -> dict[str, Any]:
    """A button click. Ephemeral messages come without `message` (Slack does not send it)."""
    block_id, element = find_element(message, action_id)
    container: dict[str, Any] = {
        "type": "message",
        "message_ts": message.ts,
        "channel_id": channel.id,
        "is_ephemeral": message.is_ephemeral,
    }
    if message.thread_ts is not None:
        container["thread_ts"] = message.thread_ts
    action: dict[str, Any] = {
        "action_id": action_id,
        "block_id": block_id,
        "text": element.get("text"),
        "type": element.get("type", "button"),
        "action_ts": action_ts(),
    }
    if "value" in element:
        action["value"] = element["value"]
    if "style" in element:
        action["style"] = element["style"]
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user.id, "username": user.name, "name": user.name, "team_id": team_id},
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": container,
        "trigger_id": new_trigger_id(),
        "team": {"id": team_id, "domain": team_domain},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": _channel_ref(channel),
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [action],
    }
    if not message.is_ephemeral:
        payload["message"] = wire_message(message, team_id)
    return payload


def find_element(message: Message, action_id: str) -> tuple[str, dict[str, Any]]:
    for block_id, element in interactive_elements(message.blocks):
        if element.get("action_id") == action_id:
            return block_id, element
    raise LookupError(
        f"no element with action_id {action_id!r} on message {message.ts}; "
        f"it has {message.action_ids()}"
    )


def _channel_ref(channel: Channel) -> dict[str, str]:
    return {"id": channel.id, "name": channel.name}
