"""The stand-ins' one HTTP server: threaded, on loopback, run in the background by its owner.

The e签宝 simulator, the Slack playground and the benchmark's Slack sink each serve on one:
127.0.0.1 and a port the OS chooses unless told otherwise, one daemon thread per connection (a
client that never hangs up cannot keep a test run or the local bot alive), no access log on
stderr (it goes to logging at DEBUG), and `start()`/`stop()` or a `with` block around an
accept loop on a background thread.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import BaseRequestHandler, TCPServer
from types import TracebackType
from typing import Any, Self
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer
from wsgiref.types import WSGIApplication

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"


class QuietRequestHandler(BaseHTTPRequestHandler):
    """The stand-ins' request handlers: the access log goes to logging at DEBUG, not to
    stderr, and answers are not held back by Nagle's algorithm.

    http.server writes an answer's headers and body in two sends; with Nagle on, the body waits
    for the client's ACK of the headers, which Linux delays by up to 40 ms on a keep-alive
    connection: latency that would be the stand-in's, not the bot's."""

    disable_nagle_algorithm = True

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # Without the query: e签宝's token endpoint takes the app secret there.
        log.debug("%s %s -> %s", self.command, self.path.partition("?")[0], code)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug(format, *args)


class LoopbackHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server for one request handler class, served on a background thread."""

    daemon_threads = True
    allow_reuse_address = True
    # Benchmarks open ~100 connections at once; the default backlog of 5 would refuse some.
    request_queue_size = 256

    def __init__(
        self,
        handler_class: type[BaseRequestHandler],
        *,
        host: str = LOOPBACK,
        port: int = 0,
        name: str = "http",
    ) -> None:
        self._name = name
        self._thread: threading.Thread | None = None
        super().__init__((host, port), handler_class)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks the host up in reverse DNS; not wanted on loopback.
        TCPServer.server_bind(self)
        host, port = self.socket.getsockname()[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    @property
    def port(self) -> int:
        return self.server_port

    @property
    def url(self) -> str:
        """The base URL, without a trailing slash."""
        return f"http://{self.server_name}:{self.server_port}"

    def start(self) -> Self:
        if self._thread is not None:
            raise RuntimeError(f"the {self._name} server is already running")
        self._thread = threading.Thread(
            target=self.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{self._name}-{self.server_name}:{self.server_port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, end the connections still open, close the socket. Idempotent."""
        thread, self._thread = self._thread, None
        if thread is not None:
            # shutdown() returns once the accept loop next wakes up; a throwaway connection
            # wakes it at once, which keeps stop() and test teardowns fast.
            stopper = threading.Thread(target=self.shutdown, daemon=True)
            stopper.start()
            self._wake()
            stopper.join()
        self.close_connections()
        self.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def close_connections(self) -> None:
        """Called by stop() once nothing new is accepted: subclasses that keep connections
        open (keep-alive, held answers) end them here."""

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("%s server: error while serving %s", self._name, client_address, exc_info=True)

    def _wake(self) -> None:
        host = self.server_name
        if host in ("0.0.0.0", ""):  # noqa: S104 - comparing, not binding
            host = LOOPBACK
        with contextlib.suppress(OSError), socket.create_connection((host, self.port), 0.5):
            pass


class _QuietWSGIRequestHandler(QuietRequestHandler, WSGIRequestHandler):
    pass


class WsgiServerThread(LoopbackHTTPServer, WSGIServer):
    """One WSGI app on the stand-ins' server: a thread per request, since the bot calls back
    into a stand-in (and a page long-polls) while a request to the bot is still open."""

    def __init__(self, app: WSGIApplication, *, host: str = LOOPBACK, port: int = 0) -> None:
        super().__init__(_QuietWSGIRequestHandler, host=host, port=port, name="wsgi")
        self.set_app(app)

    def server_bind(self) -> None:
        super().server_bind()
        self.setup_environ()  # what WSGIServer.server_bind adds to HTTPServer's
