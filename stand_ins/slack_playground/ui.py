"""The browser playground: the page, its static files and its JSON endpoints.

JSON endpoints (all under /playground/):
- `GET  state?since=<version>`  the whole visible workspace; waits up to 15 s for a change when
                                `since` is the current version (long-poll)
- `POST command`   {channel_id, text: "/esign-flow 8037…"}       -> signed slash command
- `POST message`   {channel_id, text, thread_ts?}                 -> a message from the viewer
- `POST shortcut`  {channel_id, message_ts}                       -> signed message_action
- `POST click`     {channel_id, message_ts, action_id}            -> signed block_actions
- `POST dismiss`   {channel_id, message_ts}                       -> hides an ephemeral message
- `POST reset`     {}                                             -> empty workspace, fresh samples
- `POST global_shortcut` {}                                       -> the ⚡ shortcut (opens a modal)
- `POST view_submit` {view_id, values: {block_id: text or channel id}} -> view_submission
- `POST view_click`  {view_id, action_id, value?, option?}        -> block_actions in a view
- `POST view_close`  {view_id}                                    -> the modal's Close
- `POST home`        {}                                           -> app_home_opened (Home tab)
- `POST step`        {flow_id}                                    -> function_executed (a workflow)
- `POST digest_soon` {channel_id}       -> `/esign-flow digest HH:MM`, a minute from the clock
- `POST clock`       {minutes}          -> moves the digests' clock forward (a local run's bot)

POSTs must be same-origin JSON: a form on another web site cannot send `application/json`
without a CORS preflight (which is never granted), and browsers mark such requests with
`Origin` / `Sec-Fetch-Site`, which are checked too. So a random page cannot drive the bot.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Callable, Sequence
from importlib import resources
from typing import Any, Protocol

from .clock import PlaygroundClock
from .doors import Doors
from .http_io import Request, Response, json_response
from .slack_requests import SlackExchange
from .surfaces import Execution, View
from .workspace import VIEWER_USER_ID, Message, Workspace

LONG_POLL_SECONDS = 15.0
_STATIC_TYPES = {
    "index.html": "text/html; charset=utf-8",
    "playground.js": "text/javascript; charset=utf-8",
    "playground.css": "text/css; charset=utf-8",
}
# The page loads nothing from elsewhere and runs no inline script.
_PAGE_HEADERS = [
    (
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; form-action 'none'; base-uri 'none'",
    ),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Cache-Control", "no-store"),
]


class PlaygroundSlack(Protocol):
    """What the page needs of the playground (server.py's `Playground`): the workspace it
    shows, and Slack's side of what a person does in it."""

    @property
    def workspace(self) -> Workspace: ...
    @property
    def command(self) -> str: ...
    @property
    def shortcut_callback_id(self) -> str: ...
    @property
    def shortcut_name(self) -> str: ...
    @property
    def sample_flows(self) -> Sequence[tuple[str, str]]: ...
    @property
    def bot_events_url(self) -> str | None: ...
    @property
    def socket_connected(self) -> bool: ...

    def slash_command(self, text: str, *, channel_id: str, command: str) -> SlackExchange: ...
    def message_shortcut(self, message_ts: str, *, channel_id: str) -> SlackExchange: ...
    def click(self, message: Message, action_id: str) -> SlackExchange: ...
    def post_user_message(
        self, text: str, *, channel_id: str, thread_ts: str | None, user_id: str
    ) -> Message: ...
    @property
    def doors(self) -> Doors: ...
    @property
    def clock(self) -> PlaygroundClock: ...
    def seed_conversation(self) -> None: ...


class PlaygroundPage:
    def __init__(self, playground: PlaygroundSlack) -> None:
        self._playground = playground
        self._posts: dict[str, Callable[[dict[str, Any]], Response]] = {
            "/playground/command": self._command,
            "/playground/message": self._message,
            "/playground/shortcut": self._shortcut,
            "/playground/click": self._click,
            "/playground/dismiss": self._dismiss,
            "/playground/reset": self._reset,
            "/playground/global_shortcut": self._global_shortcut,
            "/playground/view_submit": self._view_submit,
            "/playground/view_click": self._view_click,
            "/playground/view_close": self._view_close,
            "/playground/home": self._home,
            "/playground/step": self._step,
            "/playground/digest_soon": self._digest_soon,
            "/playground/clock": self._advance_clock,
        }

    def handle(self, request: Request) -> Response:
        if request.method == "GET":
            if request.path == "/":
                return _static("index.html")
            if request.path.startswith("/static/"):
                return _static(request.path.removeprefix("/static/"))
            if request.path == "/playground/state":
                return self._state(request)
            return json_response({"error": "not_found"}, 404)
        handler = self._posts.get(request.path)
        if request.method != "POST" or handler is None:
            return json_response({"error": "not_found"}, 404)
        refusal = _cross_site_refusal(request)
        if refusal is not None:
            return refusal
        body = request.json_object()
        if body is None:
            return json_response({"error": "the body must be a JSON object"}, 400)
        try:
            return handler(body)
        except (LookupError, ValueError) as problem:
            return json_response({"error": str(problem)}, 400)
        except RuntimeError as problem:  # e.g. the bot's URL is not known yet
            return json_response({"error": str(problem)}, 503)

    # ------------------------------------------------------------------ state

    def _state(self, request: Request) -> Response:
        ws = self._playground.workspace
        since = request.query.get("since")
        if since is not None and since.lstrip("-").isdigit():
            ws.wait_for_change(int(since), LONG_POLL_SECONDS)
        version = ws.version
        messages = ws.messages()
        pg = self._playground
        state = {
            "version": version,
            "viewer": VIEWER_USER_ID,
            "team": {"id": ws.team_id, "domain": ws.team_domain},
            "command": pg.command,
            "shortcut": {"callback_id": pg.shortcut_callback_id, "name": pg.shortcut_name},
            "bot_connected": pg.bot_events_url is not None or pg.socket_connected,
            "channels": [
                {
                    "id": c.id,
                    "name": c.name,
                    "is_private": c.is_private,
                    "bot_is_member": c.bot_is_member,
                    "dm_with": c.dm_with,
                }
                for c in ws.channels.values()
            ],
            "users": {u.id: {"name": u.name, "real_name": u.real_name} for u in ws.users.values()},
            "sample_flows": [{"flow_id": f, "title": t} for f, t in pg.sample_flows],
            "messages": _message_views(messages),
            # The viewer's views: the newest open modal, their Home tab, recent workflow runs.
            "modal": _view_of(next(reversed(ws.surfaces.open_modals(VIEWER_USER_ID)), None)),
            "home": _view_of(ws.surfaces.home_of(VIEWER_USER_ID)),
            "steps": [_execution_of(e) for e in ws.surfaces.executions()[-5:]],
            "clock": _clock_view(pg.clock, ws.users[VIEWER_USER_ID].tz),
        }
        return json_response(state, headers=[("Cache-Control", "no-store")])

    # ------------------------------------------------------------------ actions

    def _command(self, body: dict[str, Any]) -> Response:
        line = _text(body, "text").strip()
        command, _, rest = line.partition(" ")
        if command != self._playground.command:
            raise ValueError(
                f"{command} is not a valid command. In Slack, all messages that start with "
                'the "/" character are interpreted as commands.'
            )
        if body.get("thread_ts"):
            raise ValueError(f"{command} is not supported in threads. Sorry!")
        exchange = self._playground.slash_command(
            rest.strip(), channel_id=_text(body, "channel_id"), command=command
        )
        return _exchange_view(exchange)

    def _message(self, body: dict[str, Any]) -> Response:
        text = _text(body, "text").strip()
        if not text:
            raise ValueError("an empty message was not sent")
        message = self._playground.post_user_message(
            # Slack's client sends typed text with &, < and > escaped.
            html.escape(text, quote=False),
            channel_id=_text(body, "channel_id"),
            thread_ts=body.get("thread_ts") or None,
            user_id=VIEWER_USER_ID,
        )
        # As Slack: the bot hears of it (a channel it is in) and of the links in it.
        self._playground.doors.message_posted(message)
        return json_response({"ts": message.ts})

    def _shortcut(self, body: dict[str, Any]) -> Response:
        exchange = self._playground.message_shortcut(
            _text(body, "message_ts"), channel_id=_text(body, "channel_id")
        )
        return _exchange_view(exchange)

    def _click(self, body: dict[str, Any]) -> Response:
        message = self._playground.workspace.get_message(
            _text(body, "channel_id"), _text(body, "message_ts")
        )
        if message is None or message.deleted:
            raise LookupError("that message is gone")
        exchange = self._playground.click(message, _text(body, "action_id"))
        return _exchange_view(exchange)

    def _dismiss(self, body: dict[str, Any]) -> Response:
        ws = self._playground.workspace
        message = ws.get_message(_text(body, "channel_id"), _text(body, "message_ts"))
        if message is None or message.ephemeral_to != VIEWER_USER_ID:
            raise LookupError("only your own ephemeral messages can be dismissed")
        ws.delete_message(message.channel_id, message.ts)
        return json_response({"ok": True})

    def _global_shortcut(self, body: dict[str, Any]) -> Response:
        return _exchange_view(self._playground.doors.global_shortcut())

    def _view_submit(self, body: dict[str, Any]) -> Response:
        values = body.get("values") or {}
        if not isinstance(values, dict):
            raise ValueError("values must be an object")
        given = {str(k): str(v) for k, v in values.items() if isinstance(v, str) and v}
        return _exchange_view(self._playground.doors.submit(_text(body, "view_id"), given))

    def _view_click(self, body: dict[str, Any]) -> Response:
        value, option = body.get("value"), body.get("option")
        exchange = self._playground.doors.click(
            _text(body, "view_id"),
            _text(body, "action_id"),
            value=value if isinstance(value, str) else None,
            option=option if isinstance(option, str) else None,
        )
        return _exchange_view(exchange)

    def _view_close(self, body: dict[str, Any]) -> Response:
        self._playground.doors.close(_text(body, "view_id"))
        return json_response({"ok": True})

    def _home(self, body: dict[str, Any]) -> Response:
        [exchange] = self._playground.doors.open_home()
        return _exchange_view(exchange)

    def _step(self, body: dict[str, Any]) -> Response:
        execution, [exchange] = self._playground.doors.run_step(
            {"flow_id": _text(body, "flow_id").strip()}
        )
        return json_response({"execution_id": execution.id, **_exchange_fields(exchange)})

    def _digest_soon(self, body: dict[str, Any]) -> Response:
        """The viewer sets this channel's digest for the next minute of the digests' clock."""
        pg = self._playground
        soon = pg.clock.local(pg.workspace.users[VIEWER_USER_ID].tz, ahead_seconds=60)
        exchange = pg.slash_command(
            f"digest {soon:%H:%M}", channel_id=_text(body, "channel_id"), command=pg.command
        )
        return _exchange_view(exchange)

    def _advance_clock(self, body: dict[str, Any]) -> Response:
        minutes = body.get("minutes")
        if not isinstance(minutes, int) or not 1 <= minutes <= 24 * 60:
            raise ValueError("minutes must be a whole number from 1 to 1440")
        self._playground.clock.advance(minutes * 60)
        self._playground.workspace.touch()  # the page shows the new time
        return json_response({"ok": True, "offset_seconds": self._playground.clock.offset_seconds})

    def _reset(self, body: dict[str, Any]) -> Response:
        self._playground.clock.reset()
        self._playground.workspace.reset()
        self._playground.seed_conversation()
        return json_response({"ok": True})


def _clock_view(clock: PlaygroundClock, tz: str) -> dict[str, Any]:
    return {
        "viewer_time": f"{clock.local(tz):%H:%M} {tz}",
        "ahead_minutes": round(clock.offset_seconds / 60),
    }


def _message_views(messages: list[Message]) -> list[dict[str, Any]]:
    replies: Counter[tuple[str, str]] = Counter(
        (m.channel_id, m.thread_ts)
        for m in messages
        if m.thread_ts is not None and not m.is_ephemeral
    )
    return [
        {
            "ts": m.ts,
            "channel_id": m.channel_id,
            "thread_ts": m.thread_ts,
            "user_id": m.user_id,
            "bot": m.bot,
            "text": m.text,
            "blocks": m.blocks,
            "ephemeral_to": m.ephemeral_to,
            "edited": m.edited,
            "unfurls": [{"url": url, **preview} for url, preview in m.unfurls.items()],
            "reply_count": replies[(m.channel_id, m.ts)],
            "via_response_url": m.response_url is not None,
        }
        for m in messages
    ]


def _exchange_view(exchange: SlackExchange) -> Response:
    return json_response(_exchange_fields(exchange))


def _exchange_fields(exchange: SlackExchange) -> dict[str, Any]:
    return {
        "status": exchange.status,
        "elapsed_ms": round(exchange.elapsed * 1000),
        "acked_in_time": exchange.acked_in_time,
        "body": exchange.body[:500],
    }


def _view_of(view: View | None) -> dict[str, Any] | None:
    if view is None:
        return None
    return {
        "id": view.id,
        "type": view.type,
        "hash": view.hash,
        "body": view.body,
        "errors": view.errors,
    }


def _execution_of(execution: Execution) -> dict[str, Any]:
    return {
        "id": execution.id,
        "inputs": execution.inputs,
        "state": execution.state,
        "outputs": execution.outputs,
        "error": execution.error,
        # Whether the step was finished with the workflow's own token, as Slack requires.
        "own_token": bool(execution.tokens_used)
        and all(t == execution.token for t in execution.tokens_used),
    }


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{key} is required")
    return value


def _cross_site_refusal(request: Request) -> Response | None:
    if request.media_type != "application/json":
        return json_response({"error": "send application/json"}, 415)
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return json_response({"error": "cross-site requests are refused"}, 403)
    origin = request.headers.get("origin")
    host = request.headers.get("host")
    if (
        origin is not None
        and host is not None
        and origin
        not in (
            f"http://{host}",
            f"https://{host}",
        )
    ):
        return json_response({"error": "cross-origin requests are refused"}, 403)
    return None


def _static(name: str) -> Response:
    media_type = _STATIC_TYPES.get(name)
    if media_type is None:  # a fixed list: no path ever reaches the file system unchecked
        return json_response({"error": "not_found"}, 404)
    data = resources.files(__package__).joinpath("static", name).read_bytes()
    return Response(200, data, [("Content-Type", media_type), *_PAGE_HEADERS])
