"""Scenario 7e, scale-out on each kind of Redis: the bot (2 workers) on one Redis server, on a
Sentinel-managed primary and replica, and on a 3-primary Redis Cluster, side by side.

The three bots run the same loads in alternating rounds — warm (cached flows), cold (every
command a new flow, e签宝 at 150 ms) and a stampede (many commands at once for one uncached
flow) — and Sentinel's and the Cluster's figures are given as ratios of the single server's in
the same run. Run on request: `./scripts/bench --only scale-out-engines`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from bench.loadgen import Job
from bench.redis_host import RedisProcess
from bench.redis_sets import ClusterHost, SentinelHost
from bench.scale_out import WORKERS
from bench.scenarios import COLD_LATENCY, STAMPEDE_LATENCY, Bench, _Meter
from bench.servers import Subject
from bench.stats import Result, summarize

#: Names in the table; the first is the baseline of the ratios.
SINGLE = "bot+redis"
SENTINEL = "bot+sentinel"
CLUSTER = "bot+cluster"
ENGINES = (SINGLE, SENTINEL, CLUSTER)
#: Short rounds taking turns, so that the shared machine's drift falls on all three alike.
ROUNDS = 6


class ScaleOutEngines:
    def __init__(self, bench: Bench) -> None:
        self.bench = bench
        self.sim = bench.sim

    def run(self) -> list[Result]:
        with self._bots() as bots:
            results = self.warm(bots) + self.cold(bots)
            results += [self.stampede(name, bot) for name, bot in bots.items()]
        for scenario in {r.scenario for r in results}:
            against_single_redis([r for r in results if r.scenario == scenario])
        return results

    @contextmanager
    def _bots(self) -> Iterator[dict[str, Subject]]:
        bench = self.bench
        log_dir = bench.log_dir
        single = RedisProcess(log_dir, log_dir / "engine-redis.log")
        sentinel = SentinelHost(log_dir / "engine-sentinel")
        cluster = ClusterHost(log_dir / "engine-cluster")
        bench.cleanups += [single.kill, sentinel.stop, cluster.stop]
        bots: dict[str, Subject] = {}
        try:
            single.start()
            sentinel.start()
            cluster.start()
            envs = {
                SINGLE: {"REDIS_URL": single.url},
                SENTINEL: sentinel.env,
                CLUSTER: cluster.env,
            }
            for name, env in envs.items():
                bot = bench.start_bot(name, {**env, "WEB_CONCURRENCY": str(WORKERS)})
                bots[name] = bot
                flows = bench.new_flows(1)
                bench.send(bot, bench.commands(f"{name}-warmup", [flows] * 8), concurrency=8)
                bot.refresh_workers()
                if len(bot.worker_pids) != WORKERS:
                    raise RuntimeError(f"{name} runs {len(bot.worker_pids)} workers")
                bench.say(f"{name}: workers {bot.worker_pids} on {bot.base_url}")
            yield bots
        finally:
            for bot in bots.values():
                bot.stop()
            single.kill()
            sentinel.stop()
            cluster.stop()

    def warm(self, bots: dict[str, Subject]) -> list[Result]:
        """7e warm: many commands over a few cached flows (one miss each, then Redis reads)."""
        bench, sizes = self.bench, self.bench.sizes
        flows = bench.new_flows(sizes.warm_flows)
        self.sim.set_latency(0.0)
        for name, bot in bots.items():
            bench.send(bot, bench.commands(f"{name}-prime", [[f] for f in flows]), concurrency=5)

        def jobs(name: str, count: int) -> list[Job]:
            return bench.commands(
                f"7e-warm-{name}", [[flows[i % len(flows)]] for i in range(count)]
            )

        results = bench.compare(
            "7e warm 2w",
            ENGINES,
            jobs,
            total=sizes.warm_requests,
            latency=0.0,
            rounds=ROUNDS,
            subjects=bots,
        )
        return list(results.values())

    def cold(self, bots: dict[str, Subject]) -> list[Result]:
        """7e cold: every command a new flow (a lock, a fetch, a write, the call budget)."""
        bench, sizes = self.bench, self.bench.sizes
        total = sizes.cold_requests
        drain = total / ROUNDS / bench.settings.max_qps

        def jobs(name: str, count: int) -> list[Job]:
            return bench.commands(f"7e-cold-{name}", [[f] for f in bench.new_flows(count)])

        results = bench.compare(
            "7e cold 2w",
            ENGINES,
            jobs,
            total=total,
            latency=COLD_LATENCY,
            answer_deadline=drain + 30,
            rounds=ROUNDS,
            subjects=bots,
        )
        for result in results.values():
            result.notes.append(f"answers paced by ESIGN_MAX_QPS={bench.settings.max_qps:g}")
        return list(results.values())

    def stampede(self, name: str, bot: Subject) -> Result:
        """7e stampede: commands at once for one uncached flow over both workers: one call."""
        bench = self.bench
        [flow] = bench.new_flows(1)
        self.sim.reset_stats()
        started = time.monotonic()
        jobs = bench.commands(f"7e-stampede-{name}", [[flow]] * bench.sizes.stampede)
        self.sim.set_latency(STAMPEDE_LATENCY)
        meter = _Meter(bot)
        with meter.running():
            outcomes, answers = bench.send(bot, jobs, concurrency=len(jobs))
        self.sim.set_latency(0.0)
        result = summarize(Result("7e stampede 2w", name), outcomes, answers)
        meter.fill(result)
        result.distinct_flows = 1
        result.esign_calls = self.sim.outline_calls()
        result.esign_calls_allowed = bench.allowed_calls(1, time.monotonic() - started)
        return result


def against_single_redis(results: list[Result]) -> None:
    """Each engine's figures as ratios of the single server's (noted, and kept in `extra`)."""
    base = next((r for r in results if r.subject == SINGLE), None)
    if base is None:
        return
    for result in results:
        if result is base:
            continue
        ratios = {
            "req_per_s": _ratio(result.requests_per_second, base.requests_per_second),
            "ack_p99": _ratio(result.ack_p99, base.ack_p99),
            "answer_p50": _ratio(result.answer_p50, base.answer_p50),
            "answer_p99": _ratio(result.answer_p99, base.answer_p99),
            "cpu_per_request": _ratio(
                result.server_cpu_ms_per_request, base.server_cpu_ms_per_request
            ),
        }
        result.extra["vs_single_redis"] = ratios
        shown = ", ".join(f"{k} ×{v:.2f}" for k, v in ratios.items() if v is not None)
        result.notes.append(f"against {SINGLE} in this run: {shown}")


def _ratio(value: float | None, base: float | None) -> float | None:
    if value is None or not base:
        return None
    return round(value / base, 2)
