"""One WebSocket of the Socket Mode link: slack_sdk's builtin `Connection`, subclassed through
its public methods (`connect`, `send`, `check_state`) for what the worker needs of it.

- Nagle. The builtin connection turns Nagle's algorithm off only behind a proxy. On its direct
  socket, a small ack written while the previous one is still unacknowledged waits for the
  peer's delayed ACK (40 ms on Linux), so acks (and the cards riding on them) come in steps of
  40 ms. Each connection sets TCP_NODELAY once its handshake is done.
- Masking. A client masks every frame it sends (RFC 6455, 5.3); the builtin XORs the payload one
  byte at a time in Python, about a fifth of the worker's CPU when an ack carries a card of a few
  KB (bench/RESULTS.md). Text frames here are masked as one integer XOR.
- A dead peer. The builtin gives up on a link only after four ping intervals without a pong,
  checked once an interval (25-30 s at 5 s), and spins on a socket whose peer sent FIN. Here a
  link that has been silent (no pong, no message) for `pong_deadline` seconds is closed, and so
  is one whose peer closed TCP without a close frame; the client then opens a new one.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import socket
import struct
import time
from typing import Any

from slack_sdk.errors import SlackClientNotConnectedError
from slack_sdk.socket_mode.builtin.connection import Connection

log = logging.getLogger(__name__)

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


class LinkConnection(Connection):
    """The builtin connection: Nagle off, one-step masking, and a deadline on silence."""

    def __init__(self, *, pong_deadline: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pong_deadline = pong_deadline
        #: Why this connection was given up, for the reconnect's log line; None while it works.
        self.end_reason: str | None = None
        self.opened_at: float | None = None  # time.monotonic() once the handshake succeeded
        self._last_heard = time.monotonic()

    def connect(self) -> None:
        super().connect()
        sock = self.sock
        if sock is None:
            return
        self.opened_at = self._last_heard = time.monotonic()
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError as exc:  # not a TCP socket: nothing to tune
            log.debug("TCP_NODELAY not set on the Socket Mode link", extra={"error": str(exc)})

    def heard(self) -> None:
        """Slack sent something on this connection: it is alive."""
        self._last_heard = time.monotonic()

    def silent_for(self) -> float:
        """Seconds since the last message or pong (pongs carry the time their ping was sent)."""
        heard = self._last_heard
        if self.last_ping_pong_time is not None:
            # The pong's own clock is wall time; turn "seconds ago" into monotonic terms.
            pong_age = max(0.0, time.time() - self.last_ping_pong_time)
            heard = max(heard, time.monotonic() - pong_age)
        return time.monotonic() - heard

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

    def disconnect(self) -> None:
        """As the builtin, but first wake the reading thread: it holds the receive lock in a
        recv() that closing alone would not end (for up to the 3 s receive timeout), so the
        close, the switch to a new link and the new link's pongs would all wait for it."""
        sock = self.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                # The plain socket's shutdown, also under TLS: ssl's own would tear down the
                # TLS state under the reading thread.
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
        super().disconnect()

    def give_up(self, reason: str) -> None:
        """Close this connection for `reason` (kept for the reconnect's log line)."""
        if self.end_reason is None:
            self.end_reason = reason
        self.disconnect()

    def check_state(self) -> None:
        """Run by the client's monitor once a ping interval: ping, or give up on a dead peer."""
        sock = self.sock
        if sock is None:
            return
        if _peer_closed(sock):
            self.give_up("Slack's end closed TCP without a close frame")
            return
        silent = self.silent_for()
        if silent > self.pong_deadline:
            self.give_up(f"no pong or message for {silent:.1f} s (half-open link)")
            return
        try:
            self.ping(f"{self.session_id}:{time.time()}")
        except OSError as exc:
            self.give_up(f"ping failed: {type(exc).__name__}")


def _peer_closed(sock: socket.socket) -> bool:
    """True when the peer sent FIN: the socket reads as ready and a peek (which takes nothing
    away from the reading thread) finds the end of the stream. TLS sockets cannot peek; their
    next ping fails instead."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        return bool(readable) and sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except (BlockingIOError, InterruptedError, TimeoutError, ValueError, NotImplementedError):
        return False
    except OSError:
        return True
