"""Slack's Socket Mode endpoint for one app, on loopback, served by `websockets`' threaded server.

The app's Socket Mode client (slack_sdk's builtin one, under Bolt's SocketModeHandler) calls
`apps.connections.open` with the app-level token, gets `ws://127.0.0.1:<port>/link/?ticket=…`
and connects (that client uses a plain socket on any port but 443, so no TLS is needed). Then,
as Slack does:
- the server's first message is `{"type": "hello", ...}`;
- each request reaches the app as an envelope `{"envelope_id", "type": "slash_commands" |
  "interactive" | "events_api", "payload", "accepts_response_payload"}`;
- the app acknowledges with `{"envelope_id": ..., "payload"?: {...}}`; Slack waits 3 s;
- `{"type": "disconnect", "reason": ...}` asks the app to reconnect on a fresh URL.

And as Slack's network does, on demand: `disconnect` with any reason (`request_reconnect`), a
link cut without a close frame or gone half-open (`use_faulty_network`, socket_network.py), an
ack lost on its way (`lose_acks`), an envelope delivered again with `retry_attempt` and
`retry_reason` (`redeliver`), and `apps.connections.open` failing (`fail_connection_opens`).

The WebSocket protocol itself (handshake, framing, fragments, ping/pong, the closing handshake,
protocol errors) is `websockets`'; this module plays Slack on top of it. Each ticket opens one
connection, as Slack's do. No compression, no subprotocols, no TLS.
"""

from __future__ import annotations

import hmac
import json
import logging
import secrets
import socket
import threading
import time
import uuid
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.protocol import State
from websockets.sync.server import Server, ServerConnection, serve

from .slack_requests import SlackExchange
from .socket_network import FaultyNetwork
from .web_api import ApiError
from .workspace import APP_ID

logger = logging.getLogger(__name__)

LINK_PATH = "/link/"
#: Far above any envelope or ack the bot exchanges; it only stops a runaway client.
MAX_MESSAGE_BYTES = 1024 * 1024
#: A client that connects but never completes the handshake is dropped after this.
HANDSHAKE_TIMEOUT = 5.0
#: How long a closing handshake may take before the connection is cut (stop() waits this).
CLOSE_TIMEOUT = 1.0
#: deliver() waits longer than Slack's 3 s, so a test sees how late a slow ack really was.
DEFAULT_ACK_WAIT = 10.0
#: Interactions whose ack may carry an answer (Slack sets accepts_response_payload for them).
_ANSWERABLE_INTERACTIONS = frozenset({"view_submission", "block_suggestion"})
_DEBUG_HOST = "applink-playground"


@dataclass(frozen=True, slots=True)
class SocketAck:
    """An acknowledgement the app sent over the socket."""

    envelope_id: str
    #: The ack's `payload` (a slash command's first answer), None when it carried none.
    payload: dict[str, Any] | None
    #: Seconds from sending the envelope to this ack; None when nothing was awaiting it
    #: (an unknown envelope_id, or a second ack for the same envelope).
    elapsed: float | None


@dataclass(frozen=True, slots=True)
class Delivery:
    """One envelope sent to the app, and how (or whether) the app acknowledged it."""

    envelope_id: str
    envelope_type: str
    ack: SocketAck | None
    #: Seconds until the ack, or until giving up.
    elapsed: float
    #: Why there is no ack: "not_connected", "connection_closed" or "no_ack".
    error: str | None = None

    def exchange(self) -> SlackExchange:
        """The delivery in the HTTP path's terms: status 200 and the ack's payload as a JSON
        body when acked; status 0 (never reached, or no answer) otherwise."""
        if self.ack is None:
            return SlackExchange(0, f"Socket Mode: {self.error}", self.elapsed)
        payload = self.ack.payload
        if not payload:
            return SlackExchange(200, "", self.elapsed)
        body = json.dumps(payload, ensure_ascii=False)
        return SlackExchange(200, body, self.elapsed, {"content-type": "application/json"})


def envelope(envelope_type: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """A Socket Mode envelope as Slack frames it, with a fresh envelope_id."""
    if envelope_type == "slash_commands":
        answerable = True
    elif envelope_type == "interactive":
        answerable = payload.get("type") in _ANSWERABLE_INTERACTIONS
    elif envelope_type == "events_api":
        answerable = False
    else:
        raise ValueError(f"unknown envelope type {envelope_type!r}")
    message: dict[str, Any] = {
        "envelope_id": str(uuid.uuid4()),
        "type": envelope_type,
        "payload": dict(payload),
        "accepts_response_payload": answerable,
    }
    if envelope_type == "events_api":
        message.update(retry_attempt=0, retry_reason="")
    return message


class _Link:
    """One open WebSocket, announced with hello (websockets serialises concurrent sends)."""

    def __init__(self, connection: ServerConnection, number: int) -> None:
        self.connection = connection
        self.number = number
        #: Guarded by the server's condition; False once the link's handler has ended.
        self.open = True

    def send_json(self, message: Mapping[str, Any]) -> bool:
        try:
            self.connection.send(json.dumps(message, ensure_ascii=False))
        except ConnectionClosed:
            return False
        return True


@dataclass(slots=True)
class _Pending:
    link: _Link
    sent_at: float
    ack: SocketAck | None = None


def _tracked_connections(owner: SocketModeServer) -> type[ServerConnection]:
    """A connection class that tells `owner` about every connection as it is accepted, so that
    stop() can cut the ones websockets' shutdown() would wait for."""

    class TrackedConnection(ServerConnection):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            owner._adopt(self)

    return TrackedConnection


# ---------------------------------------------------------------------- Slack's side


class SocketModeServer:
    """Slack's Socket Mode for one app token, serving WebSocket links on background threads."""

    def __init__(
        self, app_token: str, *, app_id: str = APP_ID, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.app_id = app_id
        self._app_token = app_token.encode("utf-8")
        self._host = host
        # Bound now, so the port (and so the URLs handed out) is known before start().
        self._socket = socket.create_server((host, port))
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._cond = threading.Condition()
        self._started = self._stopping = False
        self._tickets: set[str] = set()
        self._links: list[_Link] = []  # open links, newest last
        # Every connection accepted and not yet collected, handshake done or not.
        self._connections: weakref.WeakSet[ServerConnection] = weakref.WeakSet()
        self._pending: dict[str, _Pending] = {}
        self._acks: list[SocketAck] = []
        self._opened = 0
        #: How long deliver() waits for an ack unless told.
        self.ack_wait = DEFAULT_ACK_WAIT
        self._network: FaultyNetwork | None = None
        self._sent: dict[str, dict[str, Any]] = {}  # envelopes sent, by envelope_id
        self._acks_to_lose = 0
        self._open_failures: list[str] = []  # errors the next apps.connections.open calls get
        self.connection_opens_refused = 0

    # ------------------------------------------------------------------ life cycle

    @property
    def port(self) -> int:
        return int(self._socket.getsockname()[1])

    def start(self) -> SocketModeServer:
        with self._cond:
            if self._started or self._stopping:
                raise RuntimeError("the Socket Mode server can start once")
            self._started = True
        self._server = serve(
            self._serve_link,
            sock=self._socket,
            compression=None,
            process_response=self._admit,
            open_timeout=HANDSHAKE_TIMEOUT,
            # Slack's clients ping the server themselves; this one pings only when asked.
            ping_interval=None,
            close_timeout=CLOSE_TIMEOUT,
            max_size=MAX_MESSAGE_BYTES,
            create_connection=_tracked_connections(self),
            logger=logger,
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            name=f"socket-mode-{self._host}:{self.port}",
            daemon=True,
        )
        self._thread.start()
        logger.info("Slack Socket Mode stand-in on ws://%s:%d%s", self._host, self.port, LINK_PATH)
        return self

    def stop(self) -> None:
        """Stop accepting, close every link with 1001 (going away), give each client
        CLOSE_TIMEOUT seconds to answer, cut what is left and wait for every thread."""
        with self._cond:
            if self._stopping:
                return
            self._stopping = True
            connections = list(self._connections)
            self._cond.notify_all()
        for connection in connections:
            # websockets' shutdown() closes OPEN links within CLOSE_TIMEOUT, but waits as long
            # as it takes for the others: a handshake never sent, or a client that never hangs
            # up after a close frame (which websockets sends on a protocol error).
            if connection.protocol.state is not State.OPEN:
                connection.close_socket()
        if self._network is not None:
            self._network.close()
        if self._server is None:
            self._socket.close()
            return
        self._server.shutdown(code=1001, reason="server stopping")
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> SocketModeServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _adopt(self, connection: ServerConnection) -> None:
        with self._cond:
            stopping = self._stopping
            if not stopping:
                self._connections.add(connection)
        if stopping:  # accepted while stop() was sweeping: it would not be seen
            connection.close_socket()

    # ------------------------------------------------------------------ apps.connections.open

    def accepts_app_token(self, token: str) -> bool:
        return hmac.compare_digest(token.encode("utf-8"), self._app_token)

    def open_connection_url(self) -> str:
        """A fresh single-use URL, as apps.connections.open answers (through the faulty
        network once it is used); raises ApiError while failures are asked for."""
        ticket = secrets.token_urlsafe(18)
        with self._cond:
            if self._open_failures:
                self.connection_opens_refused += 1
                raise ApiError(self._open_failures.pop(0))
            self._tickets.add(ticket)
            port = self.port if self._network is None else self._network.port
        return f"ws://{self._host}:{port}{LINK_PATH}?ticket={ticket}&app_id={self.app_id}"

    # ------------------------------------------------------------------ faults on demand

    def use_faulty_network(self) -> FaultyNetwork:
        """Route the links opened from now on through a relay that can cut them or let them go
        half-open (see socket_network.py)."""
        with self._cond:
            if self._network is None:
                self._network = FaultyNetwork((self._host, self.port), self._host)
            return self._network

    def fail_connection_opens(self, times: int, error: str = "internal_error") -> None:
        """Answer the next `times` apps.connections.open calls with `{"ok": false, error}`."""
        with self._cond:
            self._open_failures = [error] * times

    def lose_acks(self, count: int = 1) -> None:
        """Lose the next `count` acks on their way, as a link dying under them would."""
        with self._cond:
            self._acks_to_lose = count

    # ------------------------------------------------------------------ state

    @property
    def connected(self) -> bool:
        with self._cond:
            return bool(self._links)

    @property
    def open_links(self) -> int:
        """Links open now (two for a moment while a client reconnects)."""
        with self._cond:
            return len(self._links)

    @property
    def connections_opened(self) -> int:
        """Links opened so far (a reconnect opens one more)."""
        with self._cond:
            return self._opened

    def wait_connected(self, timeout: float) -> bool:
        """Wait until a link is open (hello sent); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not self._links and (remaining := deadline - time.monotonic()) > 0:
                self._cond.wait(remaining)
            return bool(self._links)

    def sent(self) -> list[str]:
        """The envelope_id of every envelope sent, oldest first (redeliveries not repeated)."""
        with self._cond:
            return list(self._sent)

    def acks(self) -> list[SocketAck]:
        """Every ack received, in arrival order (unmatched ones included)."""
        with self._cond:
            return list(self._acks)

    # ------------------------------------------------------------------ acting as Slack

    def deliver(
        self,
        envelope_type: str,
        payload: Mapping[str, Any],
        *,
        timeout: float | None = None,
    ) -> Delivery:
        """Send one envelope on the newest link and wait for its ack (at most `timeout`,
        `ack_wait` by default)."""
        return self._send_envelope(envelope(envelope_type, payload), timeout)

    def redeliver(
        self, envelope_id: str, *, retry_reason: str = "timeout", timeout: float | None = None
    ) -> Delivery:
        """Deliver an envelope sent before again, as Slack does when it saw no ack in time:
        the same envelope_id and payload, `retry_attempt` one more, `retry_reason` set."""
        with self._cond:
            earlier = dict(self._sent[envelope_id])
        earlier["retry_attempt"] = int(earlier.get("retry_attempt") or 0) + 1
        earlier["retry_reason"] = retry_reason
        return self._send_envelope(earlier, timeout)

    def _send_envelope(self, message: dict[str, Any], timeout: float | None) -> Delivery:
        envelope_id, envelope_type = message["envelope_id"], message["type"]
        timeout = self.ack_wait if timeout is None else timeout
        with self._cond:
            self._sent[envelope_id] = message
            link = self._links[-1] if self._links else None
            if link is None:
                return Delivery(envelope_id, envelope_type, None, 0.0, "not_connected")
            # Registered before sending: the ack may come back before send() returns.
            pending = _Pending(link, time.perf_counter())
            self._pending[envelope_id] = pending
        sent = link.send_json(message)
        deadline = pending.sent_at + timeout
        with self._cond:
            while sent and pending.ack is None and link.open:
                remaining = deadline - time.perf_counter()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            self._pending.pop(envelope_id, None)
            ack, still_open = pending.ack, link.open
        if ack is not None and ack.elapsed is not None:
            return Delivery(envelope_id, envelope_type, ack, ack.elapsed)
        error = "no_ack" if sent and still_open else "connection_closed"
        return Delivery(
            envelope_id, envelope_type, None, time.perf_counter() - pending.sent_at, error
        )

    def request_reconnect(self, reason: str = "refresh_requested") -> int:
        """Send a `disconnect` message on every open link; return how many were told."""
        with self._cond:
            links = list(self._links)
        message = {"type": "disconnect", "reason": reason, "debug_info": {"host": _DEBUG_HOST}}
        return sum(link.send_json(message) for link in links)

    def ping(self, timeout: float = 5.0) -> bool:
        """Ping the newest link; True once its pong came back."""
        with self._cond:
            link = self._links[-1] if self._links else None
        if link is None:
            return False
        try:
            pong = link.connection.ping()
        except ConnectionClosed:
            return False
        return pong.wait(timeout)

    # ------------------------------------------------------------------ one connection

    def _admit(
        self, connection: ServerConnection, request: Request, response: Response
    ) -> Response | None:
        """After websockets has checked the upgrade itself: the path, then the ticket, which
        only a valid upgrade uses up."""
        if response.status_code != HTTPStatus.SWITCHING_PROTOCOLS:
            logger.warning("Socket Mode handshake refused: %d", response.status_code)
            return None
        url = urlsplit(request.path)
        if url.path != LINK_PATH:
            return connection.respond(HTTPStatus.NOT_FOUND, "not_found")
        ticket = parse_qs(url.query).get("ticket", [""])[-1]
        with self._cond:
            if ticket not in self._tickets:
                refused = "unknown or used ticket: call apps.connections.open for a new URL"
                logger.warning("Socket Mode handshake refused: %s", refused)
                return connection.respond(HTTPStatus.UNAUTHORIZED, refused)
            self._tickets.discard(ticket)
        return None

    def _serve_link(self, connection: ServerConnection) -> None:
        """Run one link to its end (on websockets' thread for the connection)."""
        with self._cond:
            if self._stopping:
                return
            self._opened += 1
            link = _Link(connection, self._opened)
            count = len(self._links) + 1
        hello = {
            "type": "hello",
            "num_connections": count,
            "debug_info": {
                "host": _DEBUG_HOST,
                "build_number": 1,
                "approximate_connection_time": 18060,
            },
            "connection_info": {"app_id": self.app_id},
        }
        # Slack's first message is always hello: only then may deliver() use the link.
        if not link.send_json(hello):
            return
        with self._cond:
            self._links.append(link)
            self._cond.notify_all()
        logger.info("Socket Mode link %d open", link.number)
        try:
            for message in connection:
                if isinstance(message, str):
                    self._on_message(message)
                else:
                    logger.warning("Socket Mode: binary message ignored (Slack speaks JSON text)")
        except ConnectionClosed as closed:
            logger.warning("Socket Mode link %d: %s", link.number, closed)
        finally:
            with self._cond:
                link.open = False
                if link in self._links:
                    self._links.remove(link)
                self._cond.notify_all()
            logger.info("Socket Mode link %d closed", link.number)

    def _on_message(self, text: str) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            message = None
        if not isinstance(message, dict) or not isinstance(message.get("envelope_id"), str):
            logger.warning("Socket Mode: ignored a message that is not an ack: %.200s", text)
            return
        payload = message.get("payload")
        received = time.perf_counter()
        with self._cond:
            if self._acks_to_lose:
                self._acks_to_lose -= 1
                logger.info("Socket Mode: ack for %s lost on its way", message["envelope_id"])
                return
            pending = self._pending.pop(message["envelope_id"], None)
            elapsed = None if pending is None else received - pending.sent_at
            ack = SocketAck(
                message["envelope_id"], payload if isinstance(payload, dict) else None, elapsed
            )
            self._acks.append(ack)
            if pending is not None:
                pending.ack = ack
            self._cond.notify_all()
