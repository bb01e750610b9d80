"""The Socket Mode link of the `worker:` process: Bolt's handler on slack_sdk's builtin client,
with three things changed that cost the acks time.

- Nagle. The builtin client turns Nagle's algorithm off only when it goes through a proxy. On
  its direct socket, a small ack written while the previous one is still unacknowledged waits
  for the peer's delayed ACK (40 ms on Linux), so with several requests in flight the acks, and
  the cards riding on them, come in steps of 40 ms. The link sets TCP_NODELAY on each
  connection it opens (reconnects included).
- Masking. A client masks every frame it sends (RFC 6455, 5.3); the builtin client XORs the
  payload one byte at a time in Python, about a fifth of the worker's CPU when the ack carries
  a card of a few KB (py-spy, bench/RESULTS.md). The link's connections mask the whole payload
  as one integer XOR, with a key from os.urandom.
- Dispatch threads. Listeners only ack and hand slow work over, so one thread runs them; more
  only queued for the GIL (same finding as the web process, bot/web_server.py).
"""

from __future__ import annotations

import logging
import os
import socket
import struct

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk.errors import SlackClientNotConnectedError
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.builtin.connection import Connection

from bot.thread_pools import prestart_threads

log = logging.getLogger(__name__)
#: The client's threads that run Bolt for each envelope, started at once (see above).
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


class NoDelaySocketModeClient(SocketModeClient):
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


class SocketModeLink(SocketModeHandler):
    """SocketModeHandler (the same client, settings and dispatch), on NoDelaySocketModeClient."""

    def __init__(self, app: App, app_token: str) -> None:
        self.app = app
        self.app_token = app_token
        self.client = NoDelaySocketModeClient(
            app_token=app_token,
            logger=app.logger,
            web_client=app.client,
            proxy=app.client.proxy,
            concurrency=DISPATCH_THREADS,
        )
        prestart_threads(self.client.message_workers, DISPATCH_THREADS)
        # Bolt appends its own handle() the same way (its listener type is narrower).
        self.client.socket_mode_request_listeners.append(self.handle)  # type: ignore[arg-type]
