"""Slack's Socket Mode endpoint for one app, on loopback: a small RFC 6455 WebSocket server.

The app's Socket Mode client (slack_sdk's builtin one, under Bolt's SocketModeHandler) calls
`apps.connections.open` with the app-level token, gets `ws://127.0.0.1:<port>/link/?ticket=…`
and connects (that client uses a plain socket on any port but 443, so no TLS is needed). Then,
as Slack does:
- the server's first message is `{"type": "hello", ...}`;
- each request reaches the app as an envelope `{"envelope_id", "type": "slash_commands" |
  "interactive" | "events_api", "payload", "accepts_response_payload"}`;
- the app acknowledges with `{"envelope_id": ..., "payload"?: {...}}`; Slack waits 3 s;
- `{"type": "disconnect", "reason": ...}` asks the app to reconnect on a fresh URL.

Only what Slack's clients need is implemented: text frames both ways (client frames masked,
server frames not), fragmented messages, ping/pong and the closing handshake. No extensions,
no subprotocols, no TLS. Each ticket opens one connection, as Slack's do.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import logging
import secrets
import socket
import socketserver
import struct
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from types import TracebackType
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

from .slack_requests import SlackExchange
from .workspace import APP_ID

logger = logging.getLogger(__name__)

OP_CONTINUATION, OP_TEXT, OP_BINARY = 0x0, 0x1, 0x2
OP_CLOSE, OP_PING, OP_PONG = 0x8, 0x9, 0xA
_OPCODES = frozenset({OP_CONTINUATION, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG})
CLOSE_GOING_AWAY, CLOSE_PROTOCOL_ERROR, CLOSE_INVALID_DATA, CLOSE_TOO_BIG = 1001, 1002, 1007, 1009
#: RFC 6455 §1.3: hashed with the client's key, it proves the answer comes from a WebSocket server.
_ACCEPT_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

LINK_PATH = "/link/"
#: Far above any envelope or ack the bot exchanges; it only stops a runaway client.
MAX_MESSAGE_BYTES = 1024 * 1024
MAX_HANDSHAKE_BYTES = 8 * 1024
#: A client that connects but never completes the handshake is dropped after this.
HANDSHAKE_TIMEOUT = 5.0
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


# ---------------------------------------------------------------------- RFC 6455 framing


class ProtocolError(Exception):
    """The peer broke RFC 6455; the connection is closed with `code`."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Frame:
    fin: bool
    opcode: int
    payload: bytes


def accept_key(client_key: str) -> str:
    """Sec-WebSocket-Accept for a client's Sec-WebSocket-Key."""
    digest = hashlib.sha1(client_key.encode("ascii") + _ACCEPT_GUID).digest()  # noqa: S324
    return base64.b64encode(digest).decode("ascii")


def apply_mask(data: bytes, mask: bytes) -> bytes:
    """XOR `data` with the 4-byte `mask`, repeated (masking and unmasking are the same)."""
    if not data:
        return b""
    repeated = (mask * (len(data) // 4 + 1))[: len(data)]
    mixed = int.from_bytes(data, "big") ^ int.from_bytes(repeated, "big")
    return mixed.to_bytes(len(data), "big")


def encode_frame(
    opcode: int, payload: bytes, *, fin: bool = True, mask: bytes | None = None
) -> bytes:
    """One frame. Servers send unmasked frames; a client (a test) passes a 4-byte `mask`."""
    head = bytearray([(0x80 if fin else 0) | opcode])
    mask_bit = 0x80 if mask is not None else 0
    size = len(payload)
    if size <= 125:
        head.append(mask_bit | size)
    elif size <= 0xFFFF:
        head.append(mask_bit | 126)
        head += struct.pack("!H", size)
    else:
        head.append(mask_bit | 127)
        head += struct.pack("!Q", size)
    if mask is None:
        return bytes(head) + payload
    return bytes(head) + mask + apply_mask(payload, mask)


class SocketReader:
    """Buffered reads: the bytes after a handshake may already hold the first frames."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buffer = bytearray()

    def read_until(self, marker: bytes, limit: int) -> bytes | None:
        while marker not in self._buffer:
            if len(self._buffer) > limit or not self._fill():
                return None
        end = self._buffer.index(marker) + len(marker)
        head = bytes(self._buffer[:end])
        del self._buffer[:end]
        return head

    def read_exact(self, size: int) -> bytes | None:
        """`size` bytes, or None when the peer hung up first."""
        while len(self._buffer) < size:
            if not self._fill():
                return None
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def _fill(self) -> bool:
        chunk = self._sock.recv(65536)
        self._buffer += chunk
        return bool(chunk)


def read_frame(reader: SocketReader, *, masked: bool = True) -> Frame | None:
    """The next frame (None when the peer hung up). A server reads masked frames only."""
    head = reader.read_exact(2)
    if head is None:
        return None
    first, second = head
    fin, opcode, size = bool(first & 0x80), first & 0x0F, second & 0x7F
    if first & 0x70:
        raise ProtocolError(CLOSE_PROTOCOL_ERROR, "RSV bits set, but no extension was agreed")
    if opcode not in _OPCODES:
        raise ProtocolError(CLOSE_PROTOCOL_ERROR, f"unknown opcode {opcode:#x}")
    if bool(second & 0x80) != masked:
        raise ProtocolError(CLOSE_PROTOCOL_ERROR, "client frames must be masked, server's not")
    if opcode >= OP_CLOSE and (size > 125 or not fin):
        raise ProtocolError(CLOSE_PROTOCOL_ERROR, "control frames are short and unfragmented")
    if size >= 126:
        extended = reader.read_exact(2 if size == 126 else 8)
        if extended is None:
            return None
        size = int.from_bytes(extended, "big")
    if size > MAX_MESSAGE_BYTES:
        raise ProtocolError(CLOSE_TOO_BIG, "message too big")
    mask = reader.read_exact(4) if masked else b""
    data = reader.read_exact(size)
    if mask is None or data is None:
        return None
    return Frame(fin, opcode, apply_mask(data, mask) if masked else data)


class _Link:
    """One open WebSocket. Sends are serialised: deliver() and pongs share the socket."""

    def __init__(self, sock: socket.socket, number: int) -> None:
        self.sock = sock
        self.number = number
        #: Guarded by the server's condition; False once the read loop has ended.
        self.open = True
        self._send_lock = threading.Lock()
        self._close_sent = False

    def send(self, opcode: int, payload: bytes) -> bool:
        with self._send_lock:
            if self._close_sent:
                return False  # RFC 6455 §5.5.1: nothing may follow a close frame
            try:
                self.sock.sendall(encode_frame(opcode, payload))
            except OSError:
                return False
            self._close_sent = opcode == OP_CLOSE
            return True

    def send_json(self, message: Mapping[str, Any]) -> bool:
        return self.send(OP_TEXT, json.dumps(message, ensure_ascii=False).encode("utf-8"))

    def send_close(self, code: int, reason: str = "") -> bool:
        return self.send(OP_CLOSE, struct.pack("!H", code) + reason.encode("utf-8")[:123])


@dataclass(slots=True)
class _Pending:
    link: _Link
    sent_at: float
    ack: SocketAck | None = None


class _TcpServer(socketserver.ThreadingTCPServer):
    # The owner tracks and joins its connection threads itself, with timeouts: the mixin's own
    # join (block_on_close) would wait forever on a client that never hangs up.
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], owner: SocketModeServer) -> None:
        self.owner = owner
        super().__init__(address, _Handler)


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        cast(_TcpServer, self.server).owner.serve_connection(cast(socket.socket, self.request))


# ---------------------------------------------------------------------- Slack's side


class SocketModeServer:
    """Slack's Socket Mode for one app token, serving WebSocket links on a background thread."""

    def __init__(
        self, app_token: str, *, app_id: str = APP_ID, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.app_id = app_id
        self._app_token = app_token.encode("utf-8")
        self._host = host
        self._server = _TcpServer((host, port), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"socket-mode-{host}:{self.port}",
            daemon=True,
        )
        self._cond = threading.Condition()
        self._started = self._stopping = False
        self._tickets: set[str] = set()
        self._links: list[_Link] = []  # open links, newest last
        self._sockets: set[socket.socket] = set()  # every accepted socket still served
        self._handlers: set[threading.Thread] = set()
        self._pending: dict[str, _Pending] = {}
        self._acks: list[SocketAck] = []
        self._pongs: list[bytes] = []
        self._opened = 0

    # ------------------------------------------------------------------ life cycle

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> SocketModeServer:
        with self._cond:
            if self._started or self._stopping:
                raise RuntimeError("the Socket Mode server can start once")
            self._started = True
        self._thread.start()
        logger.info("Slack Socket Mode stand-in on ws://%s:%d%s", self._host, self.port, LINK_PATH)
        return self

    def stop(self, grace: float = 1.0) -> None:
        """Stop accepting, send every link a close frame, give clients `grace` seconds to hang
        up, then cut what is left and join every thread."""
        with self._cond:
            if self._stopping:
                return
            self._stopping = True
            links = list(self._links)
            self._cond.notify_all()
        if self._started:
            self._server.shutdown()
        self._server.server_close()
        for link in links:
            link.send_close(CLOSE_GOING_AWAY, "server stopping")
        deadline = time.monotonic() + grace
        with self._cond:
            while self._links and (remaining := deadline - time.monotonic()) > 0:
                self._cond.wait(remaining)
            sockets, handlers = list(self._sockets), list(self._handlers)
        for sock in sockets:
            with contextlib.suppress(OSError):  # already gone
                sock.shutdown(socket.SHUT_RDWR)  # unblocks the handler's recv
        for handler in handlers:
            handler.join(timeout=2)
        if self._started:
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

    # ------------------------------------------------------------------ apps.connections.open

    def accepts_app_token(self, token: str) -> bool:
        return hmac.compare_digest(token.encode("utf-8"), self._app_token)

    def open_connection_url(self) -> str:
        """A fresh single-use URL, as apps.connections.open answers."""
        ticket = secrets.token_urlsafe(18)
        with self._cond:
            self._tickets.add(ticket)
        return f"ws://{self._host}:{self.port}{LINK_PATH}?ticket={ticket}&app_id={self.app_id}"

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
        timeout: float = DEFAULT_ACK_WAIT,
    ) -> Delivery:
        """Send one envelope on the newest link and wait for its ack (at most `timeout`)."""
        message = envelope(envelope_type, payload)
        envelope_id = message["envelope_id"]
        with self._cond:
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
        token = secrets.token_hex(8).encode("ascii")
        with self._cond:
            link = self._links[-1] if self._links else None
        if link is None or not link.send(OP_PING, token):
            return False
        deadline = time.monotonic() + timeout
        with self._cond:
            while token not in self._pongs and (remaining := deadline - time.monotonic()) > 0:
                self._cond.wait(remaining)
            return token in self._pongs

    # ------------------------------------------------------------------ one connection

    def serve_connection(self, sock: socket.socket) -> None:
        """Run one client connection to its end (on the socketserver's thread for it)."""
        with self._cond:
            if self._stopping:
                return
            self._sockets.add(sock)
            self._handlers.add(threading.current_thread())
        link: _Link | None = None
        try:
            # Envelopes and acks are small: send them now, not after Nagle's delay.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.settimeout(HANDSHAKE_TIMEOUT)
            reader = SocketReader(sock)
            if not self._handshake(sock, reader):
                return
            sock.settimeout(None)  # an idle link is normal; stop() shuts it down to unblock
            link = self._open_link(sock)
            if link is not None:
                self._read_loop(link, reader)
        except OSError as problem:
            logger.debug("Socket Mode connection ended: %s", problem)
        finally:
            with self._cond:
                if link is not None:
                    link.open = False
                    if link in self._links:
                        self._links.remove(link)
                self._sockets.discard(sock)
                self._handlers.discard(threading.current_thread())
                self._cond.notify_all()
            if link is not None:
                logger.info("Socket Mode link %d closed", link.number)

    def _handshake(self, sock: socket.socket, reader: SocketReader) -> bool:
        head = reader.read_until(b"\r\n\r\n", MAX_HANDSHAKE_BYTES)
        if head is None:
            return False
        request_line, headers = _parse_head(head)
        refusal = self._refusal(request_line, headers)
        if refusal is not None:
            status, reason = refusal
            logger.warning("Socket Mode handshake refused: %d %s", status, reason)
            sock.sendall(_http_answer(status, reason))
            return False
        answer = (
            "HTTP/1.1 101 Switching Protocols\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            f"Sec-WebSocket-Accept: {accept_key(headers['sec-websocket-key'])}\r\n\r\n"
        )
        sock.sendall(answer.encode("ascii"))
        return True

    def _refusal(self, request_line: str, headers: Mapping[str, str]) -> tuple[int, str] | None:
        method, _, rest = request_line.partition(" ")
        target, _, version = rest.partition(" ")
        if method != "GET" or version != "HTTP/1.1":
            return 400, "a WebSocket handshake is a GET over HTTP/1.1"
        connection = {part.strip().lower() for part in headers.get("connection", "").split(",")}
        if headers.get("upgrade", "").lower() != "websocket" or "upgrade" not in connection:
            return 400, "not a WebSocket upgrade"
        if headers.get("sec-websocket-version") != "13":
            return 426, "only WebSocket version 13"
        try:
            key_ok = (
                len(base64.b64decode(headers.get("sec-websocket-key", ""), validate=True)) == 16
            )
        except binascii.Error:
            key_ok = False
        if not key_ok:
            return 400, "Sec-WebSocket-Key must be 16 bytes, base64"
        url = urlsplit(target)
        if url.path != LINK_PATH:
            return 404, "not_found"
        ticket = parse_qs(url.query).get("ticket", [""])[-1]
        with self._cond:
            if ticket not in self._tickets:
                return 401, "unknown or used ticket: call apps.connections.open for a new URL"
            self._tickets.discard(ticket)
        return None

    def _open_link(self, sock: socket.socket) -> _Link | None:
        with self._cond:
            self._opened += 1
            link = _Link(sock, self._opened)
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
            return None
        with self._cond:
            self._links.append(link)
            self._cond.notify_all()
        logger.info("Socket Mode link %d open", link.number)
        return link

    def _read_loop(self, link: _Link, reader: SocketReader) -> None:
        kind: int | None = None  # opcode of the message being reassembled from fragments
        parts: list[bytes] = []
        try:
            while (frame := read_frame(reader)) is not None:
                if frame.opcode == OP_PING:
                    link.send(OP_PONG, frame.payload)
                elif frame.opcode == OP_PONG:
                    with self._cond:
                        self._pongs.append(frame.payload)
                        self._cond.notify_all()
                elif frame.opcode == OP_CLOSE:
                    link.send(OP_CLOSE, frame.payload[:2])  # echo the status code, then hang up
                    return
                else:
                    if (frame.opcode == OP_CONTINUATION) != (kind is not None):
                        raise ProtocolError(CLOSE_PROTOCOL_ERROR, "fragments out of order")
                    kind = frame.opcode if kind is None else kind
                    parts.append(frame.payload)
                    if sum(map(len, parts)) > MAX_MESSAGE_BYTES:
                        raise ProtocolError(CLOSE_TOO_BIG, "message too big")
                    if frame.fin:
                        self._on_message(kind, b"".join(parts))
                        kind, parts = None, []
        except ProtocolError as problem:
            logger.warning("Socket Mode link %d: %s", link.number, problem.reason)
            link.send_close(problem.code, problem.reason)

    def _on_message(self, opcode: int, data: bytes) -> None:
        if opcode != OP_TEXT:
            logger.warning("Socket Mode: binary message ignored (Slack speaks JSON text)")
            return
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolError(CLOSE_INVALID_DATA, "text frames must be UTF-8") from None
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
            pending = self._pending.pop(message["envelope_id"], None)
            elapsed = None if pending is None else received - pending.sent_at
            ack = SocketAck(
                message["envelope_id"], payload if isinstance(payload, dict) else None, elapsed
            )
            self._acks.append(ack)
            if pending is not None:
                pending.ack = ack
            self._cond.notify_all()


def _parse_head(head: bytes) -> tuple[str, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    return lines[0], headers


def _http_answer(status: int, reason: str) -> bytes:
    body = reason.encode("utf-8")
    extra = "Sec-WebSocket-Version: 13\r\n" if status == 426 else ""
    return (
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
        f"{extra}Content-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode("ascii") + body
