"""The newer ways Slack reaches the bot: the ⚡ global shortcut, modals, the Home tab and
Workflow Builder steps, played the way Slack plays them.

Interaction payloads (shortcut, view_submission, block_actions in a view) go as the signed
form Slack posts; Events API deliveries (app_home_opened, function_executed) as signed JSON
with an `event_id`, sent again with `X-Slack-Retry-Num` when asked to. A submission's ack is
applied to the modal as Slack applies it: `update` redraws it, `errors` shows them under the
fields, anything else closes it.
"""

from __future__ import annotations

import html
import json
import re
import secrets
import time
from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import urlsplit

from bot.slack.ids import FUNCTION_CHECK_FLOW, SHORTCUT_CHECK_FLOW

from .slack_requests import VERIFICATION_TOKEN, SlackExchange, action_ts
from .surfaces import Execution, View
from .workspace import APP_ID, BOT_USER_ID, VIEWER_USER_ID, Message, ResponseUrlGrant, Workspace

#: A link in a message's text, as Slack sends it (`<https://…>` or `<https://…|label>`) or bare.
_LINK = re.compile(r"https?://[^\s<>|]+")
#: The DM between a person and the app, where App Home events say they happen.
APP_HOME_CHANNEL = "D0APPHOME"


class DoorsHost(Protocol):
    """What the doors need from the playground: its workspace, and a way to reach the bot."""

    workspace: Workspace

    @property
    def base_url(self) -> str: ...

    def send_interaction(self, payload: Mapping[str, Any]) -> SlackExchange: ...

    def send_event(self, payload: Mapping[str, Any], *, retry_num: int = 0) -> SlackExchange: ...


class Doors:
    def __init__(self, host: DoorsHost) -> None:
        self._host = host

    @property
    def _ws(self) -> Workspace:
        return self._host.workspace

    # ------------------------------------------------------------------ ⚡ and modals

    def global_shortcut(
        self, *, user_id: str = VIEWER_USER_ID, callback_id: str = SHORTCUT_CHECK_FLOW
    ) -> SlackExchange:
        """The ⚡ menu: no channel, no response_url; a trigger_id good for 3 s."""
        user = self._ws.users[user_id]
        payload = {
            "type": "shortcut",
            "token": VERIFICATION_TOKEN,
            "action_ts": action_ts(),
            "team": {"id": self._ws.team_id, "domain": self._ws.team_domain},
            "user": {"id": user.id, "username": user.name, "team_id": self._ws.team_id},
            "is_enterprise_install": False,
            "enterprise": None,
            "callback_id": callback_id,
            "trigger_id": self._ws.surfaces.new_trigger(user_id),
        }
        return self._host.send_interaction(payload)

    def submit(
        self,
        view_id: str,
        values: Mapping[str, str],
        *,
        user_id: str = VIEWER_USER_ID,
    ) -> SlackExchange:
        """Submit the modal with `values` by block_id (a text input's value, or a picked
        conversation's id), then apply the ack to the modal."""
        view = self._ws.surfaces.view(view_id)
        if view is None or not view.open or view.type != "modal":
            raise LookupError(f"no open modal {view_id}")
        state, response_urls = self._state(view, values, user_id)
        user = self._ws.users[user_id]
        payload = {
            "type": "view_submission",
            "token": VERIFICATION_TOKEN,
            "trigger_id": self._ws.surfaces.new_trigger(user_id),
            "team": {"id": self._ws.team_id, "domain": self._ws.team_domain},
            "user": {"id": user.id, "username": user.name, "team_id": self._ws.team_id},
            "api_app_id": APP_ID,
            "is_enterprise_install": False,
            "enterprise": None,
            "view": {**view.wire(self._ws.team_id), "state": {"values": state}},
            "response_urls": response_urls,
        }
        exchange = self._host.send_interaction(payload)
        ack: dict[str, Any] | None = None
        if exchange.acked_in_time and exchange.body.strip():
            try:
                decoded = exchange.json()
            except ValueError:
                decoded = None
            ack = decoded if isinstance(decoded, dict) else None
        if exchange.acked_in_time:
            self._ws.surfaces.submitted(view_id, ack, updates_before=view.updates)
        self._ws.touch()
        return exchange

    def close(self, view_id: str) -> None:
        self._ws.surfaces.close(view_id)
        self._ws.touch()

    def click(
        self,
        view_id: str,
        action_id: str,
        *,
        user_id: str = VIEWER_USER_ID,
        value: str | None = None,
        option: str | None = None,
    ) -> SlackExchange:
        """Press a button (the first with `action_id`, or the one with `value`) or pick an
        `option` in a modal or Home tab."""
        view = self._ws.surfaces.view(view_id)
        if view is None:
            raise LookupError(f"no view {view_id}")
        block_id, element = _find_element(view, action_id, value)
        action: dict[str, Any] = {
            "action_id": action_id,
            "block_id": block_id,
            "type": element.get("type", "button"),
            "action_ts": action_ts(),
        }
        if "text" in element:
            action["text"] = element["text"]
        if "value" in element:
            action["value"] = element["value"]
        if option is not None:
            chosen = next(
                (o for o in element.get("options") or [] if o.get("value") == option), None
            )
            if chosen is None:
                raise LookupError(f"no option {option!r} on {action_id}")
            action["selected_option"] = chosen
        user = self._ws.users[user_id]
        payload = {
            "type": "block_actions",
            "user": {"id": user.id, "username": user.name, "team_id": self._ws.team_id},
            "api_app_id": APP_ID,
            "token": VERIFICATION_TOKEN,
            "container": {"type": "view", "view_id": view.id},
            "trigger_id": self._ws.surfaces.new_trigger(user_id),
            "team": {"id": self._ws.team_id, "domain": self._ws.team_domain},
            "enterprise": None,
            "is_enterprise_install": False,
            "view": view.wire(self._ws.team_id),
            "actions": [action],
        }
        return self._host.send_interaction(payload)

    # ------------------------------------------------------------------ Events API

    def open_home(
        self, *, user_id: str = VIEWER_USER_ID, tab: str = "home", retries: int = 0
    ) -> list[SlackExchange]:
        """The person opens the app's Home tab; with `retries`, Slack sends it again that many
        times (same event_id, X-Slack-Retry-Num 1, 2, …), as when it saw no answer in 3 s."""
        event: dict[str, Any] = {
            "type": "app_home_opened",
            "user": user_id,
            "channel": APP_HOME_CHANNEL,
            "tab": tab,
            "event_ts": action_ts(),
        }
        home = self._ws.surfaces.home_of(user_id)
        if home is not None:
            event["view"] = home.wire(self._ws.team_id)
        return self._deliver(event, retries)

    def run_step(
        self,
        inputs: Mapping[str, Any],
        *,
        callback_id: str = FUNCTION_CHECK_FLOW,
        retries: int = 0,
    ) -> tuple[Execution, list[SlackExchange]]:
        """A workflow reaches the step: `function_executed` with a just-in-time token."""
        execution = self._ws.surfaces.start_execution(callback_id, dict(inputs))
        event = {
            "type": "function_executed",
            "function": {
                "id": "Fn0PLAYSTEP",
                "callback_id": callback_id,
                "title": "Check e签宝 flow",
                "type": "app",
                "app_id": APP_ID,
                "date_created": int(time.time()),
            },
            "inputs": dict(inputs),
            "function_execution_id": execution.id,
            "workflow_execution_id": f"Wx0{secrets.token_hex(5).upper()}",
            "event_ts": action_ts(),
            "bot_access_token": execution.token,
        }
        self._ws.touch()
        return execution, self._deliver(event, retries)

    # ------------------------------------------------------------------ channel messages, links

    def message_posted(self, message: Message, *, retries: int = 0) -> list[SlackExchange]:
        """Slack tells the bot of a message in a channel it is in (`message.channels`), and of
        each link in it (`link_shared`, as posted: channel + message_ts)."""
        exchanges = self.deliver_event(self.message_event(message), retries=retries)
        urls = [m.group(0) for m in _LINK.finditer(html.unescape(message.text))]
        if urls:
            exchanges += self.link_shared(message, urls)
        return exchanges

    def message_event(self, message: Message) -> dict[str, Any]:
        """The `message` event Slack sends for a person's message."""
        channel = self._ws.find_channel(message.channel_id)
        event: dict[str, Any] = {
            "type": "message",
            "channel": message.channel_id,
            "user": message.user_id,
            "text": message.text,
            "ts": message.ts,
            "event_ts": message.ts,
            "channel_type": "group"
            if channel is not None and channel.id.startswith("G")
            else "channel",
        }
        if message.thread_ts is not None:
            event["thread_ts"] = message.thread_ts
        return event

    def link_shared(
        self, message: Message | None, urls: list[str], *, composer: bool = False
    ) -> list[SlackExchange]:
        """`link_shared` for `urls`: in the posted `message`, or still in the composer (an
        unfurl_id, the channel "COMPOSER" and a message_ts that is no timestamp)."""
        unfurl_id = self._ws.new_unfurl_id(message)
        event: dict[str, Any] = {
            "type": "link_shared",
            "user": VIEWER_USER_ID if message is None else message.user_id,
            "unfurl_id": unfurl_id,
            "source": "composer" if composer else "conversations_history",
            "is_bot_user_member": True,
            "links": [{"url": url, "domain": urlsplit(url).hostname or ""} for url in urls],
            "event_ts": action_ts(),
        }
        if composer or message is None:
            event.update(channel="COMPOSER", message_ts=f"{VIEWER_USER_ID}-{unfurl_id}")
        else:
            event.update(channel=message.channel_id, message_ts=message.ts)
            if message.thread_ts is not None:
                event["thread_ts"] = message.thread_ts
        return self.deliver_event(event)

    def deliver_event(self, event: dict[str, Any], *, retries: int = 0) -> list[SlackExchange]:
        """Any event, as Slack wraps it (a new event_id); `retries` sends it again that often."""
        return self._deliver(event, retries)

    def _deliver(self, event: dict[str, Any], retries: int) -> list[SlackExchange]:
        payload = self.event_payload(event)
        return [self._host.send_event(payload, retry_num=n) for n in range(retries + 1)]

    def event_payload(self, event: dict[str, Any]) -> dict[str, Any]:
        """`event` wrapped as Slack delivers it, under a new event_id."""
        return {
            "token": VERIFICATION_TOKEN,
            "team_id": self._ws.team_id,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev0{secrets.token_hex(6).upper()}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self._ws.team_id,
                    "user_id": BOT_USER_ID,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }

    # ------------------------------------------------------------------ internals

    def _state(
        self, view: View, values: Mapping[str, str], user_id: str
    ) -> tuple[dict[str, Any], list[dict[str, str]]]:
        state: dict[str, Any] = {}
        response_urls: list[dict[str, str]] = []
        for block in view.body.get("blocks") or []:
            if block.get("type") != "input" or not isinstance(block.get("element"), dict):
                continue
            block_id, element = str(block.get("block_id")), block["element"]
            action_id = str(element.get("action_id"))
            given = values.get(block_id)
            kind = element.get("type")
            if kind == "conversations_select":
                state[block_id] = {action_id: {"type": kind, "selected_conversation": given}}
                if given is not None and element.get("response_url_enabled"):
                    grant = self._grant(given, user_id)
                    response_urls.append(
                        {
                            "block_id": block_id,
                            "action_id": action_id,
                            "channel_id": given,
                            "response_url": grant.url,
                        }
                    )
            else:
                state[block_id] = {action_id: {"type": kind, "value": given}}
        return state, response_urls

    def _grant(self, channel_id: str, user_id: str) -> ResponseUrlGrant:
        if channel_id not in self._ws.channels:
            raise LookupError(f"no channel {channel_id!r} in the playground")
        return self._ws.grant_response_url(
            self._host.base_url, channel_id=channel_id, user_id=user_id, thread_ts=None
        )


def _find_element(view: View, action_id: str, value: str | None) -> tuple[str, dict[str, Any]]:
    for block in view.body.get("blocks") or []:
        candidates = list(block.get("elements") or []) if block.get("type") == "actions" else []
        if isinstance(block.get("accessory"), dict):
            candidates.append(block["accessory"])
        for element in candidates:
            if (
                isinstance(element, dict)
                and element.get("action_id") == action_id
                and (value is None or element.get("value") == value)
            ):
                return str(block.get("block_id", "")), element
    raise LookupError(f"no element {action_id!r} (value {value!r}) in view {view.id}")


def event_body(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")
