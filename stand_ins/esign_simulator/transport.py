"""The HTTP side: a threaded HTTP/1.1 server that hands each request to a `Responder`.

It keeps what e签宝's gateway signs untouched: the request target exactly as it stood on the
request line, and header values as the client sent them. It also carries out the faults that
are about the connection rather than the answer (reset, half a body, no answer at all).
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import struct
import threading
from dataclasses import dataclass, field
from typing import Any, Protocol

from stand_ins.esign_simulator.answers import JSON_TYPE, Answer, Delivery
from stand_ins.http_server import LoopbackHTTPServer, QuietRequestHandler

log = logging.getLogger(__name__)

#: Request bodies larger than this are refused; the outline endpoint takes none at all.
MAX_REQUEST_BODY = 1024 * 1024


@dataclass(slots=True)
class IncomingRequest:
    method: str
    target: str  # as on the request line: path and query, not decoded
    headers: list[tuple[str, str]]  # in arrival order, values as sent
    body: bytes
    received_at: float
    status: int | None = field(default=None)  # what was answered; None while open or if dropped


class Responder(Protocol):
    def received(self, request: IncomingRequest) -> None: ...

    def answer(self, request: IncomingRequest) -> Answer: ...

    def now(self) -> float: ...


def _as_sent(value: str) -> str:
    # http.server decodes header bytes as Latin-1; a client signing UTF-8 text signed the
    # UTF-8 reading of those bytes, so recover it when the bytes are valid UTF-8.
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return value


def origin_form(target: str) -> str:
    """Path and query of a request target, also when a client sent the absolute form."""
    for scheme in ("http://", "https://"):
        if target.lower().startswith(scheme):
            rest = target[len(scheme) :]
            slash = rest.find("/")
            return rest[slash:] if slash >= 0 else "/"
    return target


class SimulatorHTTPServer(LoopbackHTTPServer):
    """The stand-ins' HTTP server, keeping track of open connections: stop() ends idle
    keep-alive ones, and a RESET fault ends its connection with a TCP reset."""

    def __init__(self, responder: Responder, *, host: str, port: int) -> None:
        self.responder = responder
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._abortive: set[socket.socket] = set()
        super().__init__(_Handler, host=host, port=port, name="esign-simulator")

    def track(self, connection: socket.socket) -> None:
        with self._lock:
            self._open.add(connection)

    def untrack(self, connection: socket.socket) -> None:
        with self._lock:
            self._open.discard(connection)

    def mark_abortive(self, connection: socket.socket) -> None:
        with self._lock:
            self._abortive.add(connection)

    def shutdown_request(self, request: Any) -> None:
        with self._lock:
            abortive = request in self._abortive
            self._abortive.discard(request)
        if abortive:
            # A plain close with SO_LINGER 0 sends RST; the usual shutdown() would send FIN.
            request.close()
        else:
            super().shutdown_request(request)

    def close_connections(self) -> None:
        """End idle keep-alive connections so their threads and clients notice the stop."""
        with self._lock:
            connections = list(self._open)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(QuietRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so pooled clients reuse connections
    server_version = "esign-simulator"
    sys_version = ""
    server: SimulatorHTTPServer

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.untrack(self.connection)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # Malformed requests get e签宝-style JSON too, never http.server's HTML page.
        body = json.dumps({"code": code, "message": message or "bad request"}).encode()
        self.close_connection = True
        try:
            self.send_response(code, message)
            self.send_header("Content-Type", JSON_TYPE)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        except OSError:
            pass

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_GET

    def _serve(self) -> None:
        body = self._read_body()
        if body is None:
            return
        request = IncomingRequest(
            method=self.command,
            target=self.requestline.split()[1],  # self.path may already be rewritten
            headers=[(name, _as_sent(value)) for name, value in self.headers.items()],
            body=body,
            received_at=self.server.responder.now(),
        )
        self.server.responder.received(request)
        try:
            answer = self.server.responder.answer(request)
        except Exception:  # a simulator bug must show up as such, not as a dropped connection
            log.exception("e签宝 simulator failed on %s %s", request.method, request.target)
            answer = Answer(500, b'{"code":500,"message":"simulator error"}')
        self._deliver(request, answer)

    def _read_body(self) -> bytes | None:
        if self.headers.get("Transfer-Encoding"):
            self.send_error(411, "Content-Length required")
            return None
        raw_length = self.headers.get("Content-Length", "0").strip() or "0"
        if not raw_length.isdigit() or int(raw_length) > MAX_REQUEST_BODY:
            self.send_error(400, "bad Content-Length")
            return None
        return self.rfile.read(int(raw_length)) if int(raw_length) else b""

    def _deliver(self, request: IncomingRequest, answer: Answer) -> None:
        if answer.delivery is Delivery.DROP:
            self.close_connection = True
            return
        if answer.delivery is Delivery.RESET:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
            self.server.mark_abortive(self.connection)
            return
        body = answer.body
        if answer.delivery is Delivery.HALF_BODY:
            self.close_connection = True
            body = body[: len(body) // 2]
        # Recorded before sending, so a client that has its answer also sees it recorded.
        request.status = answer.status
        try:
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(answer.body)))
            for name, value in answer.headers:
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            self.wfile.flush()
        except OSError:
            self.close_connection = True  # the client went away; nothing left to tell it
