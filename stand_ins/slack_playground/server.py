"""`Playground`: the Slack stand-in as one object, serving itself or mounted in another server.

It drives the bot the way Slack does (signed slash commands, message shortcuts, button clicks
POSTed to the bot's /slack/events, or, given an app token, sent as Socket Mode envelopes over a
WebSocket) and is the Slack the bot talks back to (Web API under `api_url`, response URLs under
`base_url/response/`), recording all of it in `workspace`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, Literal
from wsgiref.types import WSGIApplication

from bot.slack.ids import COMMAND, SHORTCUT_LOOKUP_IN_MESSAGE
from stand_ins.http_server import WsgiServerThread

from .clock import PlaygroundClock
from .doors import Doors, event_body
from .response_urls import ResponseUrls
from .routes import PlaygroundRoutes
from .slack_requests import (
    ACK_DEADLINE_SECONDS,
    BotLink,
    RequestSigner,
    SlackExchange,
    block_actions_payload,
    form_body,
    interaction_body,
    message_action_payload,
    slash_command_fields,
)
from .socket_mode import SocketModeServer
from .ui import PlaygroundPage
from .web_api import WebApi
from .workspace import (
    BOT_USER_ID,
    COLLEAGUE_USER_ID,
    SLACKBOT_USER_ID,
    VIEWER_USER_ID,
    Channel,
    Message,
    ResponseUrlGrant,
    User,
    Workspace,
)

logger = logging.getLogger(__name__)

DEFAULT_SHORTCUT_NAME = "Look up e签宝 flows"


class Playground:
    def __init__(
        self,
        *,
        signing_secret: str,
        bot_token: str,
        bot_events_url: str | None = None,
        team_id: str = "T0PLAYGRND",
        host: str = "127.0.0.1",
        port: int = 0,
        sample_flows: Sequence[tuple[str, str]] = (),
        command: str = COMMAND,
        shortcut_callback_id: str = SHORTCUT_LOOKUP_IN_MESSAGE,
        shortcut_name: str = DEFAULT_SHORTCUT_NAME,
        app_token: str | None = None,
    ) -> None:
        """`sample_flows`: (flow_id, title) pairs listed on the page; when given, a small
        sample conversation mentioning them is posted, so a newcomer has messages to run the
        shortcut on (`workspace.reset()` clears it; the page's Reset posts it again).

        `app_token` (xapp-…): also play Slack's Socket Mode endpoint (`socket_mode`, started
        with the playground on its own port): `apps.connections.open` with that token hands
        out its WebSocket URL. Requests then go over the socket while `bot_events_url` is
        unset (see `transport`)."""
        self.bot_events_url = bot_events_url
        self.sample_flows = tuple(sample_flows)
        self.command = command
        self.shortcut_callback_id = shortcut_callback_id
        self.shortcut_name = shortcut_name
        self.workspace = Workspace(team_id=team_id)
        #: The digests' clock a local run hands the bot; the page moves it forward.
        self.clock = PlaygroundClock()
        self._signer = RequestSigner(signing_secret)
        self._bot = BotLink(self._signer)
        self._host, self._port = host, port
        self._server: WsgiServerThread | None = None
        self._base_url: str | None = None
        self.socket_mode = None if app_token is None else SocketModeServer(app_token, host=host)
        self.wsgi_app: WSGIApplication = PlaygroundRoutes(
            WebApi(self.workspace, bot_token=bot_token, socket_mode=self.socket_mode),
            ResponseUrls(self.workspace),
            PlaygroundPage(self),
        )
        #: The ⚡ shortcut, modals, the Home tab and workflow steps (doors.py).
        self.doors = Doors(self)
        self.seed_conversation()

    # ------------------------------------------------------------------ life cycle

    def start(self) -> Playground:
        """Serve `wsgi_app` on host:port (port 0: any free port) on a background thread, and
        the Socket Mode endpoint (if any) on another free port.

        A playground mounted elsewhere (`base_url` set by hand) starts `socket_mode` itself."""
        if self._server is not None:
            raise RuntimeError("the playground is already started")
        self._server = WsgiServerThread(self.wsgi_app, host=self._host, port=self._port).start()
        self._base_url = self._server.url
        logger.info("Slack playground on %s/", self._base_url)
        if self.socket_mode is not None:
            self.socket_mode.start()
        return self

    def stop(self) -> None:
        # Socket Mode first: a client told to go away may call apps.connections.open once more.
        if self.socket_mode is not None:
            self.socket_mode.stop()
        self.workspace.close()
        if self._server is not None:
            self._server.stop()
            self._server = None
        self._bot.close()

    def __enter__(self) -> Playground:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """Where `wsgi_app` is reachable, without a trailing slash."""
        if self._base_url is None:
            raise RuntimeError(
                "the playground has no address yet: start() it, or set base_url to where "
                "wsgi_app is mounted"
            )
        return self._base_url

    @base_url.setter
    def base_url(self, value: str) -> None:
        """For `wsgi_app` mounted in another server: e.g. "http://127.0.0.1:3000"."""
        if self._server is not None:
            raise RuntimeError("the playground serves itself; its base_url is fixed")
        self._base_url = value.rstrip("/")

    @property
    def api_url(self) -> str:
        """The bot's SLACK_API_URL (slack_sdk WebClient base_url: trailing slash included)."""
        return f"{self.base_url}/api/"

    @property
    def transport(self) -> Literal["http", "socket"]:
        """How slash commands, shortcuts and clicks reach the bot: "http" (signed POSTs to
        `bot_events_url`) whenever that is set or there is no app token, else "socket"
        (envelopes over Socket Mode; the exchange's body is then the ack's payload, as JSON)."""
        return "socket" if self.socket_mode is not None and not self.bot_events_url else "http"

    @property
    def socket_connected(self) -> bool:
        """True while the bot holds a Socket Mode connection (hello sent)."""
        return self.socket_mode is not None and self.socket_mode.connected

    def wait_socket_connected(self, timeout: float = 10.0) -> bool:
        """Wait until the bot has connected over Socket Mode; False on timeout."""
        if self.socket_mode is None:
            raise RuntimeError("this playground has no Socket Mode: pass app_token")
        return self.socket_mode.wait_connected(timeout)

    # ------------------------------------------------------------------ acting as Slack

    def slash_command(
        self,
        text: str,
        *,
        user_id: str = VIEWER_USER_ID,
        channel_id: str = "C0GENERAL",
        command: str | None = None,
    ) -> SlackExchange:
        command = command or self.command
        channel, user = self._channel(channel_id), self._user(user_id)
        grant = self._grant(channel, user, thread_ts=None)
        fields = slash_command_fields(
            command=command,
            text=text,
            team_id=self.workspace.team_id,
            team_domain=self.workspace.team_domain,
            channel=channel,
            user=user,
            response_url=grant.url,
        )
        exchange = self._send("slash_commands", fields, form_body(fields))
        if exchange.acked_in_time:
            self._show_ack_message(exchange, grant)
        else:
            self._show_failure(exchange, grant, f"{command}")
        return exchange

    def message_shortcut(
        self,
        message_ts: str,
        *,
        channel_id: str = "C0GENERAL",
        user_id: str = VIEWER_USER_ID,
        callback_id: str | None = None,
    ) -> SlackExchange:
        channel, user = self._channel(channel_id), self._user(user_id)
        message = self._visible_message(channel_id, message_ts, user_id)
        if message.is_ephemeral:
            raise ValueError("Slack offers no message shortcuts on ephemeral messages")
        parent = (
            None
            if message.thread_ts is None
            else self.workspace.get_message(channel_id, message.thread_ts)
        )
        grant = self._grant(channel, user, thread_ts=message.thread_ts)
        payload = message_action_payload(
            callback_id=callback_id or self.shortcut_callback_id,
            team_id=self.workspace.team_id,
            team_domain=self.workspace.team_domain,
            channel=channel,
            user=user,
            message=message,
            reply_count=self.workspace.reply_count(channel_id, message.ts),
            parent_user_id=None if parent is None else parent.user_id,
            response_url=grant.url,
        )
        exchange = self._send("interactive", payload, interaction_body(payload))
        if not exchange.acked_in_time:
            self._show_failure(exchange, grant, f'The shortcut "{self.shortcut_name}"')
        return exchange

    def click(
        self, message: Message, action_id: str, *, user_id: str = VIEWER_USER_ID
    ) -> SlackExchange:
        """Click the element `action_id` on `message` (as it is now in the workspace)."""
        channel, user = self._channel(message.channel_id), self._user(user_id)
        current = self._visible_message(message.channel_id, message.ts, user_id)
        grant = self._grant(channel, user, thread_ts=current.thread_ts, original_ts=current.ts)
        payload = block_actions_payload(
            team_id=self.workspace.team_id,
            team_domain=self.workspace.team_domain,
            channel=channel,
            user=user,
            message=current,
            action_id=action_id,
            response_url=grant.url,
        )
        exchange = self._send("interactive", payload, interaction_body(payload))
        if not exchange.acked_in_time:
            label = (payload["actions"][0].get("text") or {}).get("text", action_id)
            self._show_failure(exchange, grant, f'The button "{label}"')
        return exchange

    def post_user_message(
        self,
        text: str,
        *,
        channel_id: str = "C0GENERAL",
        thread_ts: str | None = None,
        user_id: str = COLLEAGUE_USER_ID,
    ) -> Message:
        """A person's message (text in Slack's wire format: `&lt;` for a typed `<`)."""
        self._channel(channel_id)
        self._user(user_id)
        return self.workspace.add_message(
            channel_id=channel_id, text=text, user_id=user_id, bot=False, thread_ts=thread_ts
        )

    def send_interaction(self, payload: Mapping[str, Any]) -> SlackExchange:
        """An interaction payload (shortcut, view_submission, block_actions) by `transport`."""
        return self._send("interactive", payload, interaction_body(payload))

    def send_event(self, payload: Mapping[str, Any], *, retry_num: int = 0) -> SlackExchange:
        """An Events API delivery: signed JSON over HTTP (a retry says so in its headers, as
        Slack's do), or an `events_api` envelope over Socket Mode."""
        if self.socket_mode is not None and not self.bot_events_url:
            return self.socket_mode.deliver("events_api", payload).exchange()
        body = event_body(payload)
        headers = {"Content-Type": "application/json", **self._signer.sign(body)}
        if retry_num:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = "timeout"
        return self._bot.send_raw(self._events_url(), body, headers)

    def send_raw(self, body: bytes, headers: Mapping[str, str]) -> SlackExchange:
        """POST exactly these bytes and headers to the bot (forged or stale signatures...)."""
        return self._bot.send_raw(self._events_url(), body, headers)

    def sign(self, body: bytes, timestamp: int | None = None) -> dict[str, str]:
        """Slack's signature headers for `body` (at `timestamp`, default now)."""
        return self._signer.sign(body, timestamp)

    def seed_conversation(self) -> None:
        """Post the sample conversation mentioning `sample_flows` (nothing without them)."""
        ids = [flow_id for flow_id, _ in self.sample_flows]
        if not ids:
            return
        first = ids[0]
        second = ids[1 % len(ids)]
        third = ids[2 % len(ids)]
        fourth = ids[3 % len(ids)]
        parent = self.post_user_message(
            f"Morning! A customer says e签宝 flow {first} is stuck. Can someone take a look?"
        )
        self.post_user_message(
            f"Same company, another one: {second} (and their agent's flow {third}).",
            thread_ts=parent.ts,
            user_id=COLLEAGUE_USER_ID,
        )
        self.post_user_message(
            f"Ticket 4411: customer asks where verification {fourth} stands, phone 13800138000.",
            channel_id="C0PUBLIC2",
        )

    # ------------------------------------------------------------------ internals

    def _send(self, envelope_type: str, payload: Mapping[str, Any], form: bytes) -> SlackExchange:
        """One request to the bot by `transport`: an envelope over Socket Mode, or a signed
        form POSTed to `bot_events_url` (`payload` and `form` are the same request)."""
        if self.socket_mode is not None and not self.bot_events_url:
            return self.socket_mode.deliver(envelope_type, payload).exchange()
        return self._bot.send_form(self._events_url(), form)

    def _events_url(self) -> str:
        if not self.bot_events_url:
            raise RuntimeError("the bot's events URL is not set (Playground.bot_events_url)")
        return self.bot_events_url

    def _channel(self, channel_id: str) -> Channel:
        channel = self.workspace.channels.get(channel_id)
        if channel is None:
            raise LookupError(f"no channel {channel_id!r} in the playground")
        return channel

    def _user(self, user_id: str) -> User:
        user = self.workspace.users.get(user_id)
        if user is None:
            raise LookupError(f"no user {user_id!r} in the playground")
        return user

    def _visible_message(self, channel_id: str, ts: str, user_id: str) -> Message:
        message = self.workspace.get_message(channel_id, ts)
        if message is None or message.deleted:
            raise LookupError(f"no message {ts} in {channel_id} (deleted or never posted)")
        if message.ephemeral_to not in (None, user_id):
            raise LookupError(f"message {ts} is ephemeral to {message.ephemeral_to}, not {user_id}")
        return message

    def _grant(
        self,
        channel: Channel,
        user: User,
        *,
        thread_ts: str | None,
        original_ts: str | None = None,
    ) -> ResponseUrlGrant:
        return self.workspace.grant_response_url(
            self.base_url,
            channel_id=channel.id,
            user_id=user.id,
            thread_ts=thread_ts,
            original_ts=original_ts,
        )

    def _show_ack_message(self, exchange: SlackExchange, grant: ResponseUrlGrant) -> None:
        # A slash command's acknowledgement may carry the first answer (Bolt: ack("text")).
        text, blocks, in_channel = _ack_message(exchange)
        if not text and not blocks:
            return
        message = self.workspace.add_message(
            channel_id=grant.channel_id,
            text=text,
            blocks=blocks,
            user_id=BOT_USER_ID,
            bot=True,
            ephemeral_to=None if in_channel else grant.user_id,
        )
        self.workspace.remember_original(grant.token, message.ts)

    def _show_failure(self, exchange: SlackExchange, grant: ResponseUrlGrant, what: str) -> None:
        # What the user sees when the bot is unreachable, refuses, or answers too late.
        late = exchange.elapsed > ACK_DEADLINE_SECONDS  # Slack stopped waiting, whatever came
        code = "operation_timeout" if late else "dispatch_failed"
        self.workspace.add_message(
            channel_id=grant.channel_id,
            text=f'{what} failed with the error "{code}"',
            user_id=SLACKBOT_USER_ID,
            bot=False,
            thread_ts=grant.thread_ts,
            ephemeral_to=grant.user_id,
        )


def _ack_message(exchange: SlackExchange) -> tuple[str, list[dict[str, Any]], bool]:
    body = exchange.body.strip()
    if not body:
        return "", [], False
    try:
        data = exchange.json()
    except ValueError:
        return body, [], False  # a plain-text acknowledgement is shown as it is
    if not isinstance(data, dict):
        return "", [], False
    blocks = data.get("blocks")
    return (
        str(data.get("text") or ""),
        blocks if isinstance(blocks, list) else [],
        data.get("response_type") == "in_channel",
    )
