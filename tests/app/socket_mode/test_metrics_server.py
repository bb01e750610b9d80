"""The Socket Mode worker's /metrics (METRICS_PORT)."""

from __future__ import annotations

import httpx

from bot.app.metrics import Metrics
from bot.app.socket_mode.metrics_server import WorkerMetrics


def test_the_worker_serves_its_figures_behind_the_token() -> None:
    metrics = Metrics(token="t0k3n")
    metrics.slack_call("chat.postMessage", "ok")
    server = WorkerMetrics("127.0.0.1", 0, metrics)
    try:
        url = f"http://127.0.0.1:{server.port}"
        assert httpx.get(f"{url}/metrics", timeout=5).status_code == 401
        wrong = {"Authorization": "Bearer nope"}
        assert httpx.get(f"{url}/metrics", headers=wrong, timeout=5).status_code == 403
        answer = httpx.get(f"{url}/metrics", headers={"Authorization": "Bearer t0k3n"}, timeout=5)
        assert answer.status_code == 200
        assert (
            'esign_flow_slack_api_calls_total{method="chat.postMessage",outcome="ok"} 1.0'
            in answer.text
        )
        assert httpx.get(f"{url}/healthz", timeout=5).status_code == 404
    finally:
        server.close()
