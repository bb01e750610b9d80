"""The Socket Mode worker's own endpoints: /metrics (METRICS_PORT) and /healthz."""

from __future__ import annotations

import httpx

from bot.app.metrics import METRICS_PATH, Metrics
from bot.app.socket_mode.endpoints import WorkerEndpoint


def test_the_worker_serves_its_figures_behind_the_token() -> None:
    metrics = Metrics(token="t0k3n")
    metrics.slack_call("chat.postMessage", "ok")
    server = WorkerEndpoint("127.0.0.1", 0, {METRICS_PATH: metrics.scrape})
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
