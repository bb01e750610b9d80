"""Scenario: the daily digest. A digest of 200 flows, composed and posted by the bot's own digest
door (the real lookup, e签宝 client, cards and Slack client, in this process), against the e签宝
simulator and the Slack playground:

1. cold: no flow cached; the digest's lookups wait for the watch polls' share of ESIGN_MAX_QPS
   (POLL_SHARE); e签宝 calls and the busiest one-second window come from the simulator's log;
2. warm: the same digest again with every flow cached (a person looked them up this morning):
   CPU time of the thread that composes and posts it (time.thread_time, so the stand-ins'
   threads are not counted), against a baseline in the same run: one flow card rendered and
   posted the same way (Share's work);
3. memory, in a fresh interpreter: RSS and the SQLite file after recording 50,000 shown flows
   across 1,000 channels (the memory keeps 48 h and at most SHOWN_PER_CHANNEL a channel), and
   Redis's used_memory for the same records when redis-server is installed.

Run alone: `python -m bench.digest`; in the bench: `./scripts/bench --only digest`.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.hosts import BOT_TOKEN, SIGNING_SECRET
from bench.stats import Result
from bench.watch import max_in_window

FLOWS = 200
OPEN_TEMPLATE = "2987365134507291136"
FAILED_TEMPLATE = "2987366388415348736"
MAX_QPS = 40.0
WARM_REPEATS = 7
MEMORY_CHANNELS = 1_000
MEMORY_FLOWS = 50_000
CHANNEL = "C0GENERAL"


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def digest_figures() -> dict[str, Any]:
    from slack_sdk import WebClient

    from bot.app.lookup_stack import build_lookup_stack
    from bot.app.runtime import poll_pacer
    from bot.app.settings import load_settings
    from bot.delivery.background import BackgroundWork
    from bot.delivery.digests import DigestDelivery
    from bot.delivery.flow_cards import LookupOutcome
    from bot.slack.replies import SlackReplies
    from bot.state.digest_records import DigestSetting
    from bot.state.sqlite_store import SqliteStateStore
    from bot.watch.poller import POLL_SHARE
    from stand_ins.esign_simulator import EsignSimulator, catalogue_outline
    from stand_ins.slack_playground import Playground

    token = BOT_TOKEN
    with EsignSimulator() as sim, Playground(signing_secret=SIGNING_SECRET, bot_token=token) as pg:
        settings = load_settings(
            esign_app_id=sim.app_id,
            esign_app_secret=sim.app_secret,
            esign_base_url=sim.base_url,
            esign_max_qps=MAX_QPS,
            cache_ttl_seconds=600,
            slack_api_url=pg.api_url,
        )
        stack = build_lookup_stack(settings)
        replies = SlackReplies(
            WebClient(token=token, base_url=pg.api_url), allow_response_url=lambda _: False
        )
        workdir = Path(tempfile.mkdtemp(prefix="bench-digest-"))
        store = SqliteStateStore(workdir / "state.sqlite3")
        flow_ids = []
        for n in range(FLOWS):
            template = FAILED_TEMPLATE if n % 4 == 0 else OPEN_TEMPLATE
            outline = catalogue_outline(template)
            assert outline is not None
            flow_id = f"29990{n:014d}"
            sim.add_flow({**outline, "flowId": flow_id})
            flow_ids.append(flow_id)
            mention = pg.post_user_message(f"stuck? {flow_id}", channel_id=CHANNEL)
            store.record_shown(CHANNEL, [flow_id], mention.ts, time.time() - 3600)
        door = DigestDelivery(
            stack.cards,
            replies,
            BackgroundWork(1),
            store=store,
            lookup=stack.lookup,
            pacer=poll_pacer(settings, None),
            time_zone_of=lambda _: "Asia/Shanghai",
        )
        setting = DigestSetting(CHANNEL, None, "U0BENCH", 9, 30, "Asia/Shanghai", 0.0)

        sim.reset_stats()
        started = time.monotonic()
        assert door.post_digest(setting, datetime.now(UTC))
        cold_s = time.monotonic() - started
        calls = [r.time for r in sim.requests() if "/outline" in r.path]

        warm_cpu, warm_wall = [], []
        sim.reset_stats()
        for _ in range(WARM_REPEATS):
            cpu, wall = time.thread_time(), time.perf_counter()
            assert door.post_digest(setting, datetime.now(UTC))
            warm_cpu.append(time.thread_time() - cpu)
            warm_wall.append(time.perf_counter() - wall)
        warm_calls = sim.outline_calls()

        one_card_cpu = []
        for flow_id in flow_ids[:WARM_REPEATS]:
            cpu = time.thread_time()
            outcome = LookupOutcome(flow_id, snapshot=stack.lookup.get(flow_id))
            card = stack.cards.render(outcome, ephemeral=False, requested_by="U0BENCH")
            replies.post(CHANNEL, card.to_message(), thread_ts=None)
            one_card_cpu.append(time.thread_time() - cpu)
        posted = [m for m in pg.workspace.messages(CHANNEL) if "Daily e签宝 digest" in m.text]
        blocks = len(posted[-1].blocks) if posted else 0
        stack.close()
        store.close()

    share = MAX_QPS * POLL_SHARE
    warm_cpu_ms = statistics.median(warm_cpu) * 1000
    card_cpu_ms = statistics.median(one_card_cpu) * 1000
    return {
        "flows": FLOWS,
        "max_qps": MAX_QPS,
        "share_per_s": share,
        "cold_s": round(cold_s, 2),
        "cold_esign_calls": len(calls),
        "cold_max_calls_1s": max_in_window(calls),
        "cold_calls_per_s": round(len(calls) / max(cold_s, 1e-9), 1),
        "warm_cpu_ms_p50": round(warm_cpu_ms, 1),
        "warm_cpu_ms_max": round(max(warm_cpu) * 1000, 1),
        "warm_wall_ms_p50": round(statistics.median(warm_wall) * 1000, 1),
        "warm_esign_calls": warm_calls,
        "one_card_cpu_ms_p50": round(card_cpu_ms, 2),
        "digest_vs_one_card": round(warm_cpu_ms / max(card_cpu_ms, 1e-9), 1),
        "blocks": blocks,
    }


def memory_figures() -> dict[str, Any]:
    """In this (fresh) interpreter: RSS and storage after recording the shown flows."""
    from bot.state.sqlite_store import SqliteStateStore

    workdir = Path(tempfile.mkdtemp(prefix="bench-digest-memory-"))
    store = SqliteStateStore(workdir / "state.sqlite3")
    store.record_shown("C0WARMUP", ["8000000000000000000"], "1.1", time.time())
    before = _rss_mb()
    per_channel = MEMORY_FLOWS // MEMORY_CHANNELS
    started = time.perf_counter()
    now = time.time()
    for c in range(MEMORY_CHANNELS):
        channel = f"C{c:08d}"
        for f in range(per_channel):
            store.record_shown(channel, [f"8{c:09d}{f:09d}"], f"{now:.0f}.{f:06d}", now + f)
    record_s = time.perf_counter() - started
    after = _rss_mb()
    figures: dict[str, Any] = {
        "shown_flows": MEMORY_FLOWS,
        "channels": MEMORY_CHANNELS,
        "record_us_each": round(record_s / MEMORY_FLOWS * 1e6, 1),
        "rss_before_mb": round(before, 1),
        "rss_after_mb": round(after, 1),
        "sqlite_file_mb": round((workdir / "state.sqlite3").stat().st_size / 2**20, 1),
    }
    store.close()
    figures.update(_redis_memory(per_channel))
    return figures


def _redis_memory(per_channel: int) -> dict[str, Any]:
    import shutil

    if shutil.which("redis-server") is None:
        return {}
    from bench.redis_host import RedisProcess
    from bot.state.redis_store import RedisStateStore
    from bot.state.shared.connection import redis_client
    from bot.state.shared.health import SharedRedis

    workdir = Path(tempfile.mkdtemp(prefix="bench-digest-redis-"))
    server = RedisProcess(workdir, workdir / "redis.log").start()
    try:
        client = redis_client(server.url)
        store = RedisStateStore(SharedRedis(client, location="bench"), "esign-flow:bench:app")
        used_before = int(client.info("memory")["used_memory"])
        now = time.time()
        started = time.perf_counter()
        for c in range(MEMORY_CHANNELS):
            channel = f"C{c:08d}"
            for f in range(per_channel):
                store.record_shown(channel, [f"8{c:09d}{f:09d}"], f"{now:.0f}.{f:06d}", now + f)
        record_s = time.perf_counter() - started
        used_after = int(client.info("memory")["used_memory"])
        return {
            "redis_used_mb": round((used_after - used_before) / 2**20, 1),
            "redis_record_us_each": round(record_s / MEMORY_FLOWS * 1e6, 1),
        }
    finally:
        server.kill()


def run_digest() -> list[Result]:
    figures = digest_figures()
    memory = subprocess.run(
        [sys.executable, "-m", "bench.digest", "--memory"],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    figures.update(json.loads(memory.stdout.strip().splitlines()[-1]))
    result = Result(scenario="digest", subject="bot", duration_s=figures["cold_s"])
    result.extra = figures
    return [result]


def digest_lines(results: list[Result]) -> list[str]:
    lines = []
    for result in results:
        x = result.extra
        if result.scenario != "digest" or "flows" not in x:
            continue
        lines += [
            f"digest of {x['flows']} flows ({x['blocks']} blocks): warm cache "
            f"{x['warm_cpu_ms_p50']} ms CPU p50 (max {x['warm_cpu_ms_max']}), "
            f"{x['warm_wall_ms_p50']} ms wall, "
            f"{x['warm_esign_calls']} e签宝 calls; = {x['digest_vs_one_card']} x one posted card "
            f"({x['one_card_cpu_ms_p50']} ms CPU)",
            f"cold cache: {x['cold_esign_calls']} e签宝 calls in {x['cold_s']} s "
            f"({x['cold_calls_per_s']}/s, busiest 1 s {x['cold_max_calls_1s']}); share "
            f"{x['share_per_s']:g}/s of ESIGN_MAX_QPS {x['max_qps']:g}",
            f"shown memory: {x['shown_flows']} flows in {x['channels']} channels: RSS "
            f"{x['rss_before_mb']} -> {x['rss_after_mb']} MB, SQLite file {x['sqlite_file_mb']} MB"
            f" ({x['record_us_each']} us each)" + _redis_words(x),
        ]
    return lines


def _verdict(ok: bool, what: str) -> str:
    return f"{'PASS' if ok else 'FAIL'}  {what}"


def _redis_words(x: dict[str, Any]) -> str:
    if "redis_used_mb" not in x:
        return ""
    return f"; Redis used_memory +{x['redis_used_mb']} MB ({x['redis_record_us_each']} us each)"


if __name__ == "__main__":
    if "--memory" in sys.argv:
        print(json.dumps(memory_figures()))
    else:
        print("\n".join(digest_lines(run_digest())))
