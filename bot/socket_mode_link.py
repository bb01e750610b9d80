"""The Socket Mode link of the `worker:` process: Bolt's handler on a socket without Nagle.

slack_sdk's builtin Socket Mode client turns Nagle's algorithm off only when it goes through a
proxy. On its direct socket, a small ack written while the previous one is still unacknowledged
waits for the peer's delayed ACK (40 ms on Linux), so with several requests in flight the acks,
and the cards riding on them, come in steps of 40 ms. Every ack and card is one small WebSocket
frame that should leave at once, so the link sets TCP_NODELAY on each connection it opens
(reconnects included).
"""

from __future__ import annotations

import logging
import socket

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk.socket_mode.builtin import SocketModeClient

from bot.thread_pools import prestart_threads

log = logging.getLogger(__name__)
#: The client's threads that run Bolt for each envelope (slack_sdk's default), started at once.
DISPATCH_THREADS = 10


class NoDelaySocketModeClient(SocketModeClient):
    def connect(self) -> None:
        super().connect()
        session = self.current_session
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
