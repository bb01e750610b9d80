"""The Socket Mode link of the `worker:` process: Bolt's handler on slack_sdk's builtin client,
with what cost the acks time changed.

- Nagle. The builtin client turns Nagle's algorithm off only when it goes through a proxy. On
  its direct socket, a small ack written while the previous one is still unacknowledged waits
  for the peer's delayed ACK (40 ms on Linux), so with several requests in flight the acks, and
  the cards riding on them, come in steps of 40 ms. The link sets TCP_NODELAY on each
  connection it opens (reconnects included).
- Masking. A client masks every frame it sends (RFC 6455, 5.3); the builtin client XORs the
  payload one byte at a time in Python, about a fifth of the worker's CPU when the ack carries
  a card of a few KB (py-spy, bench/RESULTS.md). The link's connections mask the whole payload
  as one integer XOR, with a key from os.urandom.
- Hand-offs. The builtin client passes each envelope from the thread that read it to a queue,
  then to a pool thread that runs Bolt: each hand-off waits for the GIL. Listeners only ack and
  hand slow work over (the web process relies on the same, bot/web_server.py), so envelopes are
  run on the reading thread; anything else (hello, disconnect) takes the client's queue as
  before, since a disconnect replaces the connection that thread reads.
- The ack's body. Bolt serializes a listener's ack to JSON, its Socket Mode adapter parses it
  back and slack_sdk serializes it again inside the envelope: three passes over the card. The
  link puts Bolt's JSON into the envelope as it is.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import struct
from time import time

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.socket_mode.internals import run_bolt_app, send_response
from slack_sdk.errors import SlackClientNotConnectedError
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.builtin.connection import Connection
from slack_sdk.socket_mode.client import BaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest

log = logging.getLogger(__name__)
#: The client's pool for what is not run on the reading thread (see above).
DISPATCH_THREADS = 1
_TEXT_FINAL = 0x81  # FIN + opcode 1 (text)
_MASKED = 0x80


def masked_text_frame(payload: str) -> bytes:
    """One final, masked text frame carrying `payload` (RFC 6455, 5.2 and 5.3)."""
    data = payload.encode("utf-8")
    size = len(data)
    if size <= 125:
        header = bytes((_TEXT_FINAL, _MASKED | size))
    elif size <= 0xFFFF:
        header = struct.pack("!BBH", _TEXT_FINAL, _MASKED | 126, size)
    else:
        header = struct.pack("!BBQ", _TEXT_FINAL, _MASKED | 127, size)
    key = os.urandom(4)
    stream = (key * (size // 4 + 1))[:size]
    masked = (int.from_bytes(data, "big") ^ int.from_bytes(stream, "big")).to_bytes(size, "big")
    return header + key + masked


class FastMaskConnection(Connection):
    """The builtin connection, sending text frames masked in one step."""

    def send(self, payload: str) -> None:
        frame = masked_text_frame(payload)
        with self.sock_send_lock:
            sock = self.sock
            try:
                if sock is None:
                    raise OSError("no socket")
                sock.sendall(frame)
            except Exception as exc:
                # As the builtin send: the client retries once on a newly opened connection.
                raise SlackClientNotConnectedError(
                    f"Failed to send a message as the connection is no longer active "
                    f"(session_id: {self.session_id}, error: {exc})"
                ) from exc


class LinkSocketModeClient(SocketModeClient):
    """The builtin client: envelopes run where they are read, connections tuned as they open."""

    def enqueue_message(self, message: str) -> None:
        envelope = _envelope(message)
        if envelope is None:
            super().enqueue_message(message)
            return
        self.run_message_listeners(envelope, message)

    def connect(self) -> None:
        super().connect()
        session = self.current_session
        if type(session) is Connection:
            # Built by the client's own connect(); only how it sends text frames changes.
            session.__class__ = FastMaskConnection
        sock = getattr(session, "sock", None) if session is not None else None
        if sock is None:
            return
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError as exc:  # not a TCP socket (a test double): nothing to tune
            log.debug("TCP_NODELAY not set on the Socket Mode link", extra={"error": str(exc)})


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


class SocketModeLink(SocketModeHandler):
    """SocketModeHandler (the same settings and dispatch), on LinkSocketModeClient."""

    def __init__(self, app: App, app_token: str) -> None:
        self.app = app
        self.app_token = app_token
        self.client = LinkSocketModeClient(
            app_token=app_token,
            logger=app.logger,
            web_client=app.client,
            proxy=app.client.proxy,
            concurrency=DISPATCH_THREADS,
        )
        # Bolt appends its own handle() the same way.
        self.client.socket_mode_request_listeners.append(self.handle)

    def handle(self, client: BaseSocketModeClient, req: SocketModeRequest) -> None:
        start = time()
        response = run_bolt_app(self.app, req)
        body = response.body
        content_type = response.headers.get("content-type", [""])[0]
        if response.status == 200 and body and content_type.startswith("application/json"):
            envelope_id = json.dumps(req.envelope_id)
            client.send_message(f'{{"envelope_id": {envelope_id}, "payload": {body}}}')
            return
        send_response(client, req, response, start)  # nothing, text, or a failure: Bolt's way
