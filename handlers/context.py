"""Reads each Slack payload once, into the typed facts every listener takes as arguments.

The first middleware of the app: it puts into Bolt's context
- `requester`: who asked (team, channel, user), as the access check and the audit line see them;
- `reply_to`: where the answer goes (response_url, channel, thread, the message acted on,
  whether it is a private card or a DM between people);
- `click`: for a button, its decoded value or what is wrong with it (None otherwise);
- `request_text`: what the person typed (a slash command, the modal's flow ids field), the
  message a shortcut ran on, or the flow id a workflow step was given;
- `choice`: the option picked in a select or radio group (the Home tab's language);
- `slack_event`: for the Events API, the event's id, type, tab and retry count;
- `step_request`: for a Workflow Builder step, its execution id and its flow_id input;
- `channel_message`: for a message event, the message and the flow ids it names;
- `shared_links`: for link_shared, where the links are and which they are;
- `answer_shown`: for a click on an automatic answer holding several flows, those flows.
Bolt hands context entries to listeners by argument name, so a listener declares
`requester: Requester` and gets it. Every read is defensive: a missing or mistyped field gives
None, never an exception, so a crafted payload reaches the listener as missing facts.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware

from bot.delivery.channels import MAX_IDS_PER_ANSWER, AnswerShown, ChannelMessage, SharedLinks
from bot.delivery.workflow_step import StepRequest
from bot.esign.errors import InvalidFlowId
from bot.esign.flow_id import validate_flow_id
from bot.flows.ids import find_flow_ids
from bot.slack.button_value import ButtonValue, ButtonValueError
from bot.slack.ids import (
    ACTION_FLOW_IDS,
    BLOCK_ANSWER_FLOW_PREFIX,
    BLOCK_ANSWER_MORE_PREFIX,
    BLOCK_FLOW_IDS,
    EVENT_LINK_SHARED,
    EVENT_MESSAGE,
    STEP_INPUT_FLOW_ID,
)
from bot.slack.reply_target import ReplyTarget, ViewRef
from bot.slack.requester import Requester
from handlers.payload import field, in_direct_message, text_field

#: A button press: the value our card put in the button, or why it is not one of ours.
Click = ButtonValue | ButtonValueError


@dataclass(frozen=True, slots=True)
class SlackEvent:
    """An Events API delivery: what it is, and whether Slack is sending it again."""

    event_id: str | None
    type: str | None
    #: app_home_opened: "home" or "messages".
    tab: str | None = None
    #: X-Slack-Retry-Num: 0 for the first delivery.
    retry_num: int = 0


@dataclass(frozen=True, slots=True)
class ListenerContext:
    # Field names are the listeners' argument names: none may be one Bolt fills itself
    # (`step`, `event`, `view`, `action`...), or Bolt's value would win.
    requester: Requester
    reply_to: ReplyTarget
    click: Click | None = None
    request_text: str | None = None
    choice: str | None = None
    slack_event: SlackEvent | None = None
    step_request: StepRequest | None = None
    channel_message: ChannelMessage | None = None
    shared_links: SharedLinks | None = None
    answer_shown: AnswerShown | None = None

    def into(self, context: dict[str, Any]) -> None:
        context["requester"] = self.requester
        context["reply_to"] = self.reply_to
        context["click"] = self.click
        context["request_text"] = self.request_text
        context["choice"] = self.choice
        context["slack_event"] = self.slack_event
        context["step_request"] = self.step_request
        context["channel_message"] = self.channel_message
        context["shared_links"] = self.shared_links
        context["answer_shown"] = self.answer_shown


def read_context(body: dict[str, Any], *, retry_num: int = 0) -> ListenerContext:
    kind = field(body, "type")
    if kind == "block_actions":
        return _read_click(body)
    if kind in ("message_action", "shortcut"):
        return _read_shortcut(body)
    if kind == "view_submission":
        return _read_submission(body)
    if kind == "event_callback":
        return _read_event(body, retry_num)
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
    """Shortcuts: a message shortcut answers in the thread of the message it ran on; a global
    one (⚡ menu) has no channel and no response_url, only a trigger to open a modal with."""
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
            trigger_id=text_field(body, "trigger_id"),
        ),
        request_text=text_field(body, "message", "text"),
    )


def _read_submission(body: dict[str, Any]) -> ListenerContext:
    """The modal's submit: the typed ids, and the conversation picked for "Also post to…".

    A conversations_select with `response_url_enabled` brings that conversation's response_url
    in `response_urls`; it becomes the reply address, so posting there needs no membership.
    """
    values = field(body, "view", "state", "values")
    picked = field(body, "response_urls")
    hook = picked[0] if isinstance(picked, list) and picked else None
    channel_id = text_field(hook, "channel_id")
    typed = field(values, BLOCK_FLOW_IDS, ACTION_FLOW_IDS, "value")
    return ListenerContext(
        requester=Requester.from_payload(
            text_field(body, "team", "id"), channel_id, text_field(body, "user", "id")
        ),
        reply_to=ReplyTarget(
            response_url=text_field(hook, "response_url"),
            channel_id=channel_id,
            view=_read_view(body),
            form_submission=True,
        ),
        request_text=typed if isinstance(typed, str) else None,
    )


def _read_event(body: dict[str, Any], retry_num: int) -> ListenerContext:
    """Events API: app_home_opened (the person and their App Home) and function_executed."""
    event = field(body, "event")
    kind = text_field(event, "type")
    step = None
    request_text = None
    if kind == "function_executed":
        raw_flow = field(event, "inputs", STEP_INPUT_FLOW_ID)
        request_text = raw_flow if isinstance(raw_flow, str) else None
        step = StepRequest(
            execution_id=text_field(event, "function_execution_id"), flow_id=request_text
        )
    user = field(event, "user")
    return ListenerContext(
        requester=Requester.from_payload(
            text_field(body, "team_id"),
            text_field(event, "channel"),
            user if isinstance(user, str) else None,
        ),
        reply_to=ReplyTarget(),
        request_text=request_text,
        slack_event=SlackEvent(
            event_id=text_field(body, "event_id"),
            type=kind,
            tab=text_field(event, "tab"),
            retry_num=retry_num,
        ),
        step_request=step,
        channel_message=(
            _read_message(event, text_field(body, "event_id")) if kind == EVENT_MESSAGE else None
        ),
        shared_links=_read_links(event) if kind == EVENT_LINK_SHARED else None,
    )


def _read_message(event: object, event_id: str | None) -> ChannelMessage:
    """A channel message: a person's (no bot_id, no subtype), and the flow ids it names. The
    text is read first and alone, so a message naming none costs nothing more."""
    text = field(event, "text")
    request = find_flow_ids(text, cap=MAX_IDS_PER_ANSWER)
    links: tuple[str, ...] = ()
    outside: tuple[str, ...] = ()
    if request.flow_ids and isinstance(text, str) and "http" in text:
        links = tuple(m.group(0) for m in _LINK.finditer(text))[:20]
        outside = tuple(find_flow_ids(_LINK.sub(" ", text), cap=MAX_IDS_PER_ANSWER).flow_ids)
    person = (
        field(event, "subtype") is None
        and field(event, "bot_id") is None
        and field(event, "bot_profile") is None
        and text_field(event, "user") is not None
    )
    return ChannelMessage(
        channel_id=text_field(event, "channel"),
        user_id=text_field(event, "user"),
        ts=_ts(text_field(event, "ts")),
        thread_ts=_ts(text_field(event, "thread_ts")),
        flow_ids=tuple(request.flow_ids),
        more=request.over_cap,
        from_person=person,
        event_id=event_id,
        links=links,
        named_outside_links=outside,
    )


def _read_links(event: object) -> SharedLinks:
    links = field(event, "links")
    urls = tuple(
        url
        for link in (links if isinstance(links, list) else [])[:20]
        if isinstance(url := field(link, "url"), str)
    )
    return SharedLinks(
        channel_id=text_field(event, "channel"),
        message_ts=text_field(event, "message_ts"),
        thread_ts=_ts(text_field(event, "thread_ts")),
        unfurl_id=text_field(event, "unfurl_id"),
        source=text_field(event, "source"),
        urls=urls,
    )


def _ts(value: str | None) -> str | None:
    """A message timestamp ("1712345678.123456"), or None: it goes back to Slack as is."""
    return value if value is not None and _TS.fullmatch(value) else None


_TS = re.compile(r"[0-9]{1,12}\.[0-9]{1,9}")
#: A link in a message as Slack sends it (`<https://…>` or `<https://…|label>`).
_LINK = re.compile(r"https?://[^\s<>|]+")


def _read_answer(message: object) -> AnswerShown | None:
    """The flows an automatic answer holding several shows, from its blocks' ids (each id
    checked as any flow id); None for any other message."""
    blocks = field(message, "blocks")
    flows: list[str] = []
    more = 0
    for block in (blocks if isinstance(blocks, list) else [])[:50]:
        block_id = text_field(block, "block_id") or ""
        if block_id.startswith(BLOCK_ANSWER_FLOW_PREFIX):
            try:
                flows.append(validate_flow_id(block_id.removeprefix(BLOCK_ANSWER_FLOW_PREFIX)))
            except InvalidFlowId:
                continue
        elif block_id.startswith(BLOCK_ANSWER_MORE_PREFIX):
            count = block_id.removeprefix(BLOCK_ANSWER_MORE_PREFIX)
            more = int(count) if count.isdigit() and len(count) < 6 else 0
    return AnswerShown(tuple(flows[:MAX_IDS_PER_ANSWER]), more) if flows else None


def _read_view(body: dict[str, Any]) -> ViewRef | None:
    view_id = text_field(body, "view", "id") or text_field(body, "container", "view_id")
    if view_id is None:
        return None
    return ViewRef(
        view_id=view_id,
        kind="home" if text_field(body, "view", "type") == "home" else "modal",
        hash=text_field(body, "view", "hash"),
        flow_ids=_flow_ids(text_field(body, "view", "private_metadata")),
    )


def _flow_ids(metadata: str | None) -> tuple[str, ...]:
    """The flows a modal shows, from its private_metadata ("id,id"); what is not one is dropped."""
    found: list[str] = []
    for part in (metadata or "").split(",")[:10]:
        try:
            found.append(validate_flow_id(part))
        except InvalidFlowId:
            continue
    return tuple(found)


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
    in_view = text_field(body, "container", "type") == "view"
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
            ephemeral=not in_view
            and (
                field(body, "container", "is_ephemeral") is True
                or not isinstance(field(body, "message"), dict)
            ),
            direct_message=in_direct_message(body),
            view=_read_view(body) if in_view else None,
            trigger_id=text_field(body, "trigger_id"),
        ),
        click=click,
        choice=text_field(action, "selected_option", "value"),
        answer_shown=_read_answer(field(body, "message")),
    )


class ListenerContextMiddleware(Middleware):
    """A class rather than a decorated function: Bolt then calls it without building kwargs."""

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        body = req.body if isinstance(req.body, dict) else {}
        retry = (
            req.headers.get("x-slack-retry-num") if body.get("type") == "event_callback" else None
        )
        read_context(body, retry_num=_count(retry)).into(req.context)
        return next()


def _count(header: object) -> int:
    value = header[0] if isinstance(header, list | tuple) and header else header
    return int(value) if isinstance(value, str) and value.isdigit() else 0
