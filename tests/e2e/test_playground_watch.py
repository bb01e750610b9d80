"""A watch in the local playground with nothing configured: `esign-bot` alone (bot, playground
and built-in simulator in one process), driven through the page's own endpoints. A moving sample
flow ends, the simulator calls the bot back, and the thread reply arrives in the page."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

import httpx

from stand_ins.esign_simulator.catalogue import SCRIPTED_FAIL_ID, SCRIPTED_SUCCESS_ID
from tests.e2e.conftest import ROOT, free_port, wait_until_healthy


def test_a_moving_sample_flow_is_watched_to_its_end_in_the_page(tmp_path: Any) -> None:
    port = free_port()
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("ESIGN_", "SLACK_", "ALLOWED_"))
    }
    env.update(
        PORT=str(port),
        PYTHONPATH=str(ROOT),
        SIMULATED_FLOW_SECONDS="3",
        WATCH_FIRST_POLL_SECONDS="1",
        CACHE_TTL_SECONDS="1",
    )
    log_path = tmp_path / "esign-bot.log"
    base = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.app.cli"], cwd=tmp_path, env=env, stdout=log, stderr=log
        )
    page = httpx.Client(base_url=base, headers={"Origin": base}, timeout=10)
    try:
        wait_until_healthy(process, base, log_path)

        def post(path: str, body: dict[str, Any]) -> Any:
            answer = page.post(path, json=body)
            assert answer.status_code == 200, answer.text
            return answer.json()

        def messages() -> list[dict[str, Any]]:
            return list(page.get("/playground/state").json()["messages"])

        def final_notice(flow_id: str, parent_ts: str) -> dict[str, Any] | None:
            return next(
                (
                    m
                    for m in messages()
                    if m["bot"]
                    and m["thread_ts"] == parent_ts
                    and f"flow {flow_id} changed" in m["text"]
                    and m["text"].endswith(("→ SUCCESS", "→ FAIL"))
                ),
                None,
            )

        threads = {}
        for flow_id in (SCRIPTED_SUCCESS_ID, SCRIPTED_FAIL_ID):
            parent = post(
                "/playground/message", {"channel_id": "C0GENERAL", "text": f"is {flow_id} done?"}
            )
            post("/playground/shortcut", {"channel_id": "C0GENERAL", "message_ts": parent["ts"]})
            deadline = time.monotonic() + 10
            card = None
            while card is None and time.monotonic() < deadline:
                card = next(
                    (m for m in messages() if m["bot"] and m["thread_ts"] == parent["ts"]), None
                )
                time.sleep(0.1)
            assert card is not None and "Watch · 关注" in json.dumps(
                card["blocks"], ensure_ascii=False
            )
            clicked = post(
                "/playground/click",
                {
                    "channel_id": "C0GENERAL",
                    "message_ts": card["ts"],
                    "action_id": "esign_flow_watch",
                },
            )
            assert clicked["acked_in_time"]
            threads[flow_id] = parent["ts"]

        deadline = time.monotonic() + 20
        found: dict[str, dict[str, Any]] = {}
        while len(found) < 2 and time.monotonic() < deadline:
            for flow_id, parent_ts in threads.items():
                notice = final_notice(flow_id, parent_ts)
                if notice is not None:
                    found[flow_id] = notice
            time.sleep(0.2)
        assert set(found) == set(threads), [m["text"] for m in messages() if m["bot"]]
        assert "SUCCESS" in found[SCRIPTED_SUCCESS_ID]["text"]
        assert "FAIL" in found[SCRIPTED_FAIL_ID]["text"]
        log = log_path.read_text()
        # The success came back as e签宝's signed callback; the failure was found by polling.
        assert "e签宝 callback received" in log and "callback refused" not in log
    finally:
        page.close()
        process.terminate()
        assert process.wait(timeout=20) == 0
