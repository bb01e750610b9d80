"""The Socket Mode link of the `worker:` process: Bolt's dispatch on slack_sdk's builtin client,
extended through public classes and methods only (no Bolt internals).

- Staying connected. Slack's `disconnect` (refresh_requested, warning, link_disabled) opens a
  new link before the old one is closed; a link that fails to open leaves the old one in use.
  A dead link (a reset, a FIN without a close frame, or silence past the pong deadline: see
  bot/app/socket_mode/connection.py) is replaced at the monitor's next tick, one ping interval.
  `apps.connections.open` failing is retried with exponential backoff and jitter. Each new
  link is logged once at INFO with why the previous one ended and how long it was up.
- Answering once. An envelope Slack delivers again after a lost ack is acked again without
  running its listener twice (bot/app/socket_mode/envelopes.py).
- Hand-offs. The builtin client passes each envelope from the thread that read it to a queue,
  then to a pool thread: each hand-off waits for the GIL. Listeners only ack and hand slow work
  over (the web process relies on the same), so envelopes run on the reading thread; anything
  else (hello, disconnect) takes the client's queue, since a disconnect replaces the connection
  that thread reads.
- The ack's body. Bolt serializes a listener's ack to JSON; the envelope carries that JSON as
  it is instead of parsing and serializing it again.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import Final

from slack_bolt import App
from slack_bolt.adapter.socket_mode.base_handler import BaseSocketModeHandler
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError, SlackClientError, SlackClientNotConnectedError
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.builtin.connection import ConnectionState
from slack_sdk.socket_mode.client import BaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest

from bot.app.socket_mode.connection import LinkConnection
from bot.app.socket_mode.envelopes import EnvelopeReceipts
from bot.state.event_receipts import EventReceipts

log = logging.getLogger(__name__)

#: Slack's own clients ping every 5 s; the pong deadline is two intervals.
DEFAULT_PING_INTERVAL: Final = 5.0
#: The client's pool for what is not run on the reading thread (see above).
DISPATCH_THREADS: Final = 1
#: The longest wait between two tries of apps.connections.open.
BACKOFF_CAP_SECONDS: Final = 30.0
#: apps.connections.open errors that no retry or restart mends: the token is wrong.
TOKEN_REFUSALS: Final = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "not_allowed_token_type",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "missing_scope",
    }
)


class Backoff:
    """Exponential backoff with jitter: the n-th wait is between half and all of
    min(cap, base * 2**n), so workers cut off together do not come back together."""

    def __init__(self, base: float, cap: float = BACKOFF_CAP_SECONDS) -> None:
        self.base = base
        self.cap = cap

    def delay(self, attempt: int) -> float:
        ceiling = min(self.cap, self.base * float(1 << min(attempt, 16)))
        return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 (jitter, not a secret)


class LinkSocketModeClient(SocketModeClient):
    """The builtin client on LinkConnection, replacing links as described above."""

    def __init__(
        self,
        app_token: str,
        *,
        app: App,
        ping_interval: float = DEFAULT_PING_INTERVAL,
        pong_deadline: float | None = None,
    ) -> None:
        self.pong_deadline = 2 * ping_interval if pong_deadline is None else pong_deadline
        self.backoff = Backoff(min(1.0, ping_interval))
        #: New links opened after the first one.
        self.reconnects = 0
        self._closing = threading.Event()
        self._reconnecting = threading.Lock()
        self._next_reason: str | None = None
        super().__init__(
            app_token=app_token,
            logger=app.logger,
            web_client=app.client,
            proxy=app.client.proxy,
            ping_interval=ping_interval,
            concurrency=DISPATCH_THREADS,
        )

    # ------------------------------------------------------------------ links

    def connect(self) -> None:
        """Open a new link; only once it is open is the old one closed. Raises, keeping the
        old link, when the new one does not open while the old one still works."""
        old = self.current_session
        old_state = self.current_session_state
        if self.wss_uri is None:
            self.wss_uri = self.issue_new_wss_url()
        session = LinkConnection(
            pong_deadline=self.pong_deadline,
            url=self.wss_uri,
            logger=self.logger,
            ping_interval=self.ping_interval,
            receive_buffer_size=self.receive_buffer_size,
            proxy=self.proxy,
            proxy_headers=self.proxy_headers,
            ssl_context=self.web_client.ssl,
        )
        session.on_message_listener = partial(self._on_text, session)
        session.on_error_listener = partial(self._on_link_error, session)
        session.on_close_listener = partial(self._on_link_close, session)
        self.wss_uri = None  # a URL opens one link: the next one needs a fresh URL
        session.connect()
        if not session.is_active() and old is not None and old.is_active():
            raise SlackClientNotConnectedError("the new Socket Mode link did not open")
        # Swapped before the old reader is told to stop, so that it never restarts on `old`.
        self.current_session = session
        self.current_session_state = ConnectionState()  # type: ignore[no-untyped-call]
        old_state.terminated = True
        if old is not None:
            old.close()
        self.auto_reconnect_enabled = self.default_auto_reconnect_enabled
        if not self.current_app_monitor_started:
            self.current_app_monitor_started = True
            self.current_app_monitor.start()
        if session.is_active() and old is not None:
            self._log_replacement(old)

    def connect_to_new_endpoint(self, force: bool = False) -> None:
        """Open a new link until one is open (or, unless `force`, one already is), waiting
        with backoff between tries. One caller at a time; the others return at once."""
        if not self._reconnecting.acquire(blocking=False):
            return
        try:
            attempt, error = 0, ""
            while not self.closed:
                if not force and self.is_connected():
                    return
                if attempt:
                    delay = self.backoff.delay(attempt - 1)
                    log.warning(
                        "Socket Mode: no new link yet (%s); try %d in %.1f s",
                        error,
                        attempt + 1,
                        delay,
                    )
                    if self._closing.wait(delay):
                        return
                try:
                    with self.connect_operation_lock:
                        self.wss_uri = self.issue_new_wss_url()
                        self.connect()
                except (SlackClientError, OSError) as exc:  # retried: the link must come back
                    error = _describe(exc)
                else:
                    if self.is_connected():
                        return
                    error = "the WebSocket handshake failed"
                attempt += 1
        finally:
            self._reconnecting.release()

    def close(self) -> None:
        self._closing.set()
        super().close()

    def link_uptime(self) -> float | None:
        """Seconds the current link has been open; None while there is none."""
        session = self.current_session
        if not isinstance(session, LinkConnection) or not session.is_active():
            return None
        return None if session.opened_at is None else time.monotonic() - session.opened_at

    def _log_replacement(self, old: LinkConnection | object) -> None:
        self.reconnects += 1
        reason = self._next_reason
        self._next_reason = None
        uptime = ""
        if isinstance(old, LinkConnection):
            reason = reason or old.end_reason
            if old.opened_at is not None:
                uptime = f"; the previous link was up {time.monotonic() - old.opened_at:.1f} s"
        log.info("Socket Mode: new link open (reason: %s%s)", reason or "link lost", uptime)

    # ------------------------------------------------------------------ what a link hears

    def _on_text(self, session: LinkConnection, message: str) -> None:
        session.heard()
        reason = _disconnect_reason(message)
        if reason is not None:
            if session is not self.current_session:
                return  # an old link being let go: its replacement is already open
            self._next_reason = f"Slack sent disconnect ({reason})"
        self.enqueue_message(message)
        for listener in self.on_message_listeners:
            listener(message)

    def _on_link_error(self, session: LinkConnection, error: Exception) -> None:
        if session.end_reason is None:
            session.end_reason = f"connection error ({type(error).__name__})"
        log.debug("Socket Mode link error", extra={"error": _describe(error)})

    def _on_link_close(self, session: LinkConnection, code: int, reason: str | None) -> None:
        if session.end_reason is None:
            session.end_reason = f"Slack closed the link (code {code})"

    def enqueue_message(self, message: str) -> None:
        envelope = _envelope(message)
        if envelope is None:
            super().enqueue_message(message)
            return
        self.run_message_listeners(envelope, message)


def _describe(exc: Exception) -> str:
    if isinstance(exc, SlackApiError):
        return f"apps.connections.open: {exc.response.get('error')}"
    return type(exc).__name__


def _envelope(message: str) -> dict[str, object] | None:
    """The message as an envelope to run now; None for anything else."""
    if '"envelope_id"' not in message:
        return None
    try:
        parsed = json.loads(message)
    except ValueError:
        return None
    if not isinstance(parsed, dict) or parsed.get("type") == "disconnect":
        return None
    return parsed if parsed.get("envelope_id") else None


def _disconnect_reason(message: str) -> str | None:
    if '"disconnect"' not in message:
        return None
    try:
        parsed = json.loads(message)
    except ValueError:
        return None
    if not isinstance(parsed, dict) or parsed.get("type") != "disconnect":
        return None
    return str(parsed.get("reason") or "unknown")


class SocketModeLink(BaseSocketModeHandler):
    """Bolt's Socket Mode handler on LinkSocketModeClient."""

    client: LinkSocketModeClient

    def __init__(
        self,
        app: App,
        app_token: str,
        *,
        receipts: EventReceipts | None = None,
        ping_interval: float = DEFAULT_PING_INTERVAL,
        on_ack: Callable[[object, float], None] | None = None,
    ) -> None:
        """`on_ack`: told each envelope's payload and the seconds from its arrival to its ack
        being sent (the web process times its HTTP acks the same way)."""
        self.app = app
        self._on_ack = on_ack
        self.app_token = app_token
        self.client = LinkSocketModeClient(app_token, app=app, ping_interval=ping_interval)
        self.envelopes = EnvelopeReceipts(receipts or EventReceipts(None))
        self.client.socket_mode_request_listeners.append(self.handle)

    def open(self) -> None:
        """Open the first link. A refused token raises SlackApiError; any other failure is
        retried in the background, with backoff."""
        try:
            self.client.connect()
        except SlackApiError as exc:
            if exc.response.get("error") in TOKEN_REFUSALS:
                raise
            log.warning("Socket Mode: first link not open (%s)", _describe(exc))
        except (SlackClientError, OSError) as exc:  # the network: retried below
            log.warning("Socket Mode: first link not open (%s)", _describe(exc))
        if not self.client.is_connected():
            threading.Thread(
                target=self.client.connect_to_new_endpoint, name="socket-mode-link", daemon=True
            ).start()

    def shut(self) -> None:
        self.client.close()

    def handle(self, client: BaseSocketModeClient, req: SocketModeRequest) -> None:
        started = time.perf_counter()
        if self._answer(client, req) and self._on_ack is not None:
            self._on_ack(req.payload, time.perf_counter() - started)

    def _answer(self, client: BaseSocketModeClient, req: SocketModeRequest) -> bool:
        """Whether an ack went out."""
        earlier = self.envelopes.earlier_ack(req.envelope_id, req.retry_attempt)
        if earlier is not None:
            log.info(
                "Socket Mode: envelope delivered again, acked without running it twice",
                extra={"retry_attempt": req.retry_attempt, "retry_reason": req.retry_reason},
            )
            client.send_message(earlier)
            return True
        response = self.app.dispatch(
            BoltRequest(mode="socket_mode", body=req.payload, headers=_retry_headers(req))
        )
        ack = _ack_message(req.envelope_id, response)
        if ack is None:
            log.info("Socket Mode: no ack, Bolt answered %d", response.status)
            return False
        # Remembered before sending: if this link dies under the ack, the redelivery finds it.
        self.envelopes.remember(req.envelope_id, ack)
        try:
            client.send_message(ack)
        except SlackClientNotConnectedError:
            # No link to send it on: Slack delivers the envelope again on the next one, where
            # the remembered ack answers it.
            log.warning("Socket Mode: ack not sent, no open link", extra={"retry": "by Slack"})
            return False
        finally:
            self.envelopes.claim(req.envelope_id)
        return True


def _retry_headers(req: SocketModeRequest) -> dict[str, str | Sequence[str]] | None:
    """The HTTP path's retry headers, which the listeners read for events."""
    headers: dict[str, str | Sequence[str]] = {}
    if req.retry_attempt is not None:
        headers["x-slack-retry-num"] = str(req.retry_attempt)
    if req.retry_reason is not None:
        headers["x-slack-retry-reason"] = req.retry_reason
    return headers or None


def _ack_message(envelope_id: str, response: BoltResponse) -> str | None:
    """The ack for Bolt's response, with Bolt's JSON as it is; None when Bolt failed."""
    if response.status != 200:
        return None
    body = response.body
    if not body:
        return json.dumps({"envelope_id": envelope_id})
    content_type = response.headers.get("content-type", [""])[0]
    if content_type.startswith("application/json"):
        return f'{{"envelope_id": {json.dumps(envelope_id)}, "payload": {body}}}'
    return json.dumps({"envelope_id": envelope_id, "payload": {"text": body}})
