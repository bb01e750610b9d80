"""The worker's health endpoint (WORKER_HEALTH_PORT): is the Socket Mode link up, since when.

`GET /healthz` answers 200 `{"ok": true, "link_up_seconds": …, "reconnects": …}` while a link
is open and 503 with `"ok": false` while there is none, so a platform's health check restarts a
worker that cannot get back to Slack. Nothing else is served.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Protocol


class LinkState(Protocol):
    reconnects: int

    def link_uptime(self) -> float | None: ...


class WorkerHealth:
    def __init__(self, host: str, port: int, link: LinkState) -> None:
        self._server = ThreadingHTTPServer((host, port), _handler_for(link))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="worker-health", daemon=True
        )
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def health_body(link: LinkState) -> tuple[int, dict[str, object]]:
    uptime = link.link_uptime()
    body: dict[str, object] = {
        "ok": uptime is not None,
        "link_up_seconds": None if uptime is None else round(uptime, 1),
        "reconnects": link.reconnects,
    }
    return (200 if uptime is not None else 503), body


def _handler_for(link: LinkState) -> type[BaseHTTPRequestHandler]:
    class HealthHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?")[0] != "/healthz":
                self.send_error(404)
                return
            status, body = health_body(link)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            return  # a probe every few seconds is not worth a log line

    return HealthHandler
