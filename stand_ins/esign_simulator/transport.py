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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from typing import Any, Protocol

from stand_ins.esign_simulator.answers import JSON_TYPE, Answer, Delivery

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


class SimulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # Benchmarks open ~100 connections at once; the default backlog of 5 would refuse some.
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], responder: Responder) -> None:
        self.responder = responder
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._abortive: set[socket.socket] = set()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup of the host; not wanted on loopback.
        TCPServer.server_bind(self)
        host, port = self.socket.getsockname()[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def wake(self) -> None:
        """Make the accept loop return from its wait now (used while shutting down)."""
        host, port = self.server_address[:2]
        if str(host) in ("0.0.0.0", ""):  # noqa: S104 - comparing, not binding
            host = "127.0.0.1"
        with contextlib.suppress(OSError), socket.create_connection((str(host), port), 0.5):
            pass

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

    def close_open_connections(self) -> None:
        """End idle keep-alive connections so their threads and clients notice the stop."""
        with self._lock:
            connections = list(self._open)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("e签宝 simulator: error while serving %s", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so pooled clients reuse connections
    # An answer goes out as two sends (headers, then body). With Nagle's algorithm on, the body
    # waits for the client's ACK of the headers, which Linux delays by up to 40 ms on a
    # keep-alive connection: latency that would be the stand-in's, not e签宝's.
    disable_nagle_algorithm = True
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

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests and benchmarks read `requests()` instead of stderr."""

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
