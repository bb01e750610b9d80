"""The Socket Mode worker's /metrics (METRICS_PORT): the web process's endpoint, mirrored.

The worker takes no HTTP from Slack, so its figures get a small server of their own, as its
health check does (`health.py`); one process, so no multiprocess directory is needed.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bot.app.metrics import METRICS_PATH, Metrics


class WorkerMetrics:
    def __init__(self, host: str, port: int, metrics: Metrics) -> None:
        self._server = ThreadingHTTPServer((host, port), _handler_for(metrics))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="worker-metrics", daemon=True
        )
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler_for(metrics: Metrics) -> type[BaseHTTPRequestHandler]:
    class MetricsHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?")[0] != METRICS_PATH:
                self.send_error(404)
                return
            status = metrics.allowed(self.headers.get("Authorization"))
            if status != 200:
                self.send_response(status)
                if status == 401:
                    self.send_header("WWW-Authenticate", 'Bearer realm="metrics"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body, content_type = metrics.exposition()
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return  # a scrape every few seconds is not worth a log line

    return MetricsHandler
