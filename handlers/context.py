"""Reads each Slack payload once, into the typed facts every listener takes as arguments.

The first middleware of the app: it puts into Bolt's context
- `requester`: who asked (team, channel, user), as the access check and the audit line see them;
- `reply_to`: where the answer goes (response_url, channel, thread, the message acted on,
  whether it is a private card or a DM between people);
- `click`: for a button, its decoded value or what is wrong with it (None otherwise);
- `request_text`: what the person typed (a slash command) or the message a shortcut ran on.
Bolt hands context entries to listeners by argument name, so a listener declares
`requester: Requester` and gets it. Every read is defensive: a missing or mistyped field gives
None, never an exception, so a crafted payload reaches the listener as missing facts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware

from bot.audit import Requester
from bot.button_value import ButtonValue, ButtonValueError
from bot.reply_target import ReplyTarget
from handlers.payload import field, in_direct_message, text_field

#: A button press: the value our card put in the button, or why it is not one of ours.
Click = ButtonValue | ButtonValueError


@dataclass(frozen=True, slots=True)
class ListenerContext:
    requester: Requester
    reply_to: ReplyTarget
    click: Click | None = None
    request_text: str | None = None

    def into(self, context: dict[str, Any]) -> None:
        context["requester"] = self.requester
        context["reply_to"] = self.reply_to
        context["click"] = self.click
        context["request_text"] = self.request_text


def read_context(body: dict[str, Any]) -> ListenerContext:
    kind = field(body, "type")
    if kind == "block_actions":
        return _read_click(body)
    if kind in ("message_action", "shortcut"):
        return _read_shortcut(body)
    return _read_flat(body)


def _read_flat(body: dict[str, Any]) -> ListenerContext:
    """Slash commands: flat form fields (`team_id`, `channel_id`, `user_id`, `text`)."""
    channel_id = text_field(body, "channel_id")
    return ListenerContext(
        requester=Requester.from_payload(
            text_field(body, "team_id") or text_field(body, "team", "id"),
            channel_id,
            text_field(body, "user_id") or text_field(body, "user", "id"),
        ),
        reply_to=ReplyTarget(
            response_url=text_field(body, "response_url"),
            channel_id=channel_id,
            direct_message=in_direct_message(body),
            ack_is_shown=text_field(body, "command") is not None,
        ),
        request_text=text_field(body, "text"),
    )


def _read_shortcut(body: dict[str, Any]) -> ListenerContext:
    """Shortcuts: the answer belongs in the thread of the message it ran on."""
    channel_id = text_field(body, "channel", "id")
    return ListenerContext(
        requester=Requester.from_payload(
            text_field(body, "team", "id"), channel_id, text_field(body, "user", "id")
        ),
        reply_to=ReplyTarget(
            response_url=text_field(body, "response_url"),
            channel_id=channel_id,
            thread_ts=text_field(body, "message", "thread_ts") or text_field(body, "message", "ts"),
            direct_message=in_direct_message(body),
        ),
        request_text=text_field(body, "message", "text"),
    )


def _read_click(body: dict[str, Any]) -> ListenerContext:
    """block_actions: the card's own thread and requester ride in the button's value."""
    actions = field(body, "actions")
    action = actions[0] if isinstance(actions, list) and actions else None
    click: Click
    try:
        click = ButtonValue.decode(field(action, "value"))
    except ButtonValueError as problem:
        click = problem
    channel_id = text_field(body, "container", "channel_id") or text_field(body, "channel", "id")
    return ListenerContext(
        requester=Requester.from_payload(
            text_field(body, "team", "id"), channel_id, text_field(body, "user", "id")
        ),
        reply_to=ReplyTarget(
            response_url=text_field(body, "response_url"),
            channel_id=channel_id,
            thread_ts=click.thread_ts if isinstance(click, ButtonValue) else None,
            message_ts=text_field(body, "container", "message_ts")
            or text_field(body, "message", "ts"),
            # Ephemeral messages come without `message`, and Slack marks their container.
            ephemeral=field(body, "container", "is_ephemeral") is True
            or not isinstance(field(body, "message"), dict),
            direct_message=in_direct_message(body),
        ),
        click=click,
    )


class ListenerContextMiddleware(Middleware):
    """A class rather than a decorated function: Bolt then calls it without building kwargs."""

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        body = req.body if isinstance(req.body, dict) else {}
        read_context(body).into(req.context)
        return next()
