"""The Socket Mode worker's own small HTTP server, for what an operator asks of it: /healthz
(WORKER_HEALTH_PORT) and /metrics (METRICS_PORT). The worker takes no HTTP from Slack, so
these are its only doors; both settings naming one port give one server with both paths.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

#: A path's answer, from the request's Authorization header: status, headers, body.
Route = Callable[[str | None], tuple[int, list[tuple[str, str]], bytes]]


class WorkerEndpoint:
    def __init__(self, host: str, port: int, routes: Mapping[str, Route]) -> None:
        self._server = ThreadingHTTPServer((host, port), _handler_for(dict(routes)))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="worker-endpoint", daemon=True
        )
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler_for(routes: dict[str, Route]) -> type[BaseHTTPRequestHandler]:
    class EndpointHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            route = routes.get(self.path.split("?")[0])
            if route is None:
                self.send_error(404)
                return
            headers: Message = self.headers
            status, extra, body = route(headers.get("Authorization"))
            self.send_response(status)
            for name, value in extra:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return  # a probe or a scrape every few seconds is not worth a log line

    return EndpointHandler
