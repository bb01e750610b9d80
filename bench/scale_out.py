"""Scenario 7, scale-out: the bot on Redis with 2 granian workers against the bare Bolt app with
2 workers, warm and cold; one e签宝 call per flow across the workers; then Redis killed.

Both subjects run with `WEB_CONCURRENCY=2` and the same `REDIS_URL` (bot.app.web.server only
runs several workers when they can share state; the bare app never talks to Redis). A real
`redis-server` is started on a free loopback port for the scenario and killed in its course.
Redis traffic is read from `INFO commandstats` around each of the bot's rounds, divided by the
lookups of that round. "Redis down" compares the 2-worker bot, once its Redis is killed, with
the run's own bot without `REDIS_URL` (1 worker, as the bot runs without Redis), at paced
rates below either's capacity, so that the answer times measure the work, not a queue.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field

from bench.loadgen import Job
from bench.redis_host import RedisProcess, counts_between
from bench.scenarios import COLD_LATENCY, STAMPEDE_LATENCY, WARM_PACED_RATE, Bench, _Meter
from bench.servers import (
    Subject,
    baseline_command,
    proc_cpu_seconds,
    start_subject,
    subject_env,
)
from bench.stats import Result, summarize

WORKERS = 2
#: Names in the table.
BOT = "bot+redis"
BASELINE = "baseline"
BOT_NO_REDIS = "bot"
BOT_REDIS_DOWN = "bot+redis down"
#: The poller's look for due watches (once a second per worker): not a lookup's traffic.
NOT_LOOKUPS = frozenset({"zrangebyscore"})


@dataclass
class RedisTally:
    """Redis commands and lookups over the rounds of one subject."""

    commands: dict[str, int] = field(default_factory=dict)
    lookups: int = 0

    def add(self, delta: dict[str, int], lookups: int) -> None:
        for name, count in delta.items():
            self.commands[name] = self.commands.get(name, 0) + count
        self.lookups += lookups

    def round_trips(self) -> int:
        """Requests the bot sent, from the command counts: INFO counts the commands a Lua
        script runs as well, and a pipeline's commands one by one.

        The lookup's scripts are the call budget (GCRA: TIME, GET, SET; the only TIME) and the
        lock's release (GET, then DEL when still held; the only DEL on this path); a read is
        one pipeline of GET and PTTL.
        """
        c = self.commands
        commands = sum(n for name, n in c.items() if name not in NOT_LOOKUPS)
        budget = c.get("time", 0)
        releases = max(0, c.get("evalsha", 0) - budget)
        inside_scripts = budget * 3 + releases + c.get("del", 0)
        return commands - inside_scripts - c.get("pttl", 0)

    def fill(self, result: Result) -> None:
        lookup_commands = sum(n for c, n in self.commands.items() if c not in NOT_LOOKUPS)
        round_trips = self.round_trips()
        result.extra["redis_commands"] = dict(self.commands)
        result.extra["redis_lookups"] = self.lookups
        if self.lookups:
            result.redis_per_lookup = round(round_trips / self.lookups, 2)
            result.extra["redis_commands_per_lookup"] = round(lookup_commands / self.lookups, 2)


@contextmanager
def two_worker_subjects(
    bench: Bench, redis: RedisProcess, label: str
) -> Iterator[tuple[Subject, Subject]]:
    """(bot, bare app): the Procfile's web: line with REDIS_URL and 2 workers, and the bare app
    with 2 workers, each worker past its first command (imports, auth.test); stopped at the
    end."""
    shared = {"REDIS_URL": redis.url, "WEB_CONCURRENCY": str(WORKERS)}
    bot = bench.start_bot(f"bot-{label}", shared)
    env = subject_env({**bench.env_extra, **shared})
    baseline = start_subject(f"baseline-{label}", baseline_command(WORKERS), env, bench.log_dir)
    bench.extra_subjects.append(baseline)
    try:
        for subject in (bot, baseline):
            flows = bench.new_flows(1)
            bench.send(subject, bench.commands(f"{label}-warmup", [flows] * 8), concurrency=8)
            subject.refresh_workers()
            if len(subject.worker_pids) != WORKERS:
                raise RuntimeError(f"{subject.name} runs {len(subject.worker_pids)} workers")
        yield bot, baseline
    finally:
        bot.stop()
        baseline.stop()


class ScaleOut:
    def __init__(self, bench: Bench) -> None:
        self.bench = bench
        self.sim = bench.sim
        log_dir = bench.log_dir
        self.redis = RedisProcess(log_dir, log_dir / "redis.log")
        bench.cleanups.append(self.redis.kill)

    def run(self) -> list[Result]:
        bench = self.bench
        self.redis.start()
        bench.say(f"redis-server on 127.0.0.1:{self.redis.port} (pid {self.redis.pid})")
        try:
            with two_worker_subjects(bench, self.redis, "2w") as (bot, baseline):
                subjects = {BOT: bot, BASELINE: baseline}
                for name, subject in subjects.items():
                    bench.say(f"{name}: workers {subject.worker_pids} on {subject.base_url}")
                results = self.warm(subjects)
                results += self.cold(subjects)
                results.append(self.stampede(bot))
                results += self.redis_down(bot)
                return results
        finally:
            self.redis.kill()

    # --- helpers ------------------------------------------------------------------------------

    @contextmanager
    def _counting(self, tally: RedisTally, lookups: int) -> Iterator[None]:
        before = self.redis.command_counts()
        yield
        tally.add(counts_between(before, self.redis.command_counts()), lookups)

    @staticmethod
    def _worker_cpu(subject: Subject) -> list[float]:
        return [proc_cpu_seconds(pid) for pid in subject.worker_pids]

    # --- warm and cold, against the bare app --------------------------------------------------

    def _against_baseline(
        self,
        scenario: str,
        subjects: dict[str, Subject],
        flows_for: dict[str, list[list[str]]],
        make: str,
        *,
        total: int,
        latency: float,
        answer_deadline: float = 30.0,
    ) -> dict[str, Result]:
        bench = self.bench
        tally = RedisTally()
        per_round = max(1, total // bench.sizes.rounds)
        cpu_before = self._worker_cpu(subjects[BOT])

        def jobs(name: str, count: int) -> list[Job]:
            lists = flows_for[name][:count] if flows_for else []
            del flows_for[name][:count]
            return bench.commands(f"{make}-{name}", lists)

        def measure(name: str) -> AbstractContextManager[None]:
            return self._counting(tally, per_round) if name == BOT else _nothing()

        results = bench.compare(
            scenario,
            [BOT, BASELINE],
            jobs,
            total=total,
            latency=latency,
            answer_deadline=answer_deadline,
            subjects=subjects,
            measure=measure,
        )
        tally.fill(results[BOT])
        spent = [
            after - before
            for after, before in zip(self._worker_cpu(subjects[BOT]), cpu_before, strict=True)
        ]
        results[BOT].extra["worker_cpu_s"] = [round(s, 2) for s in spent]
        results[BOT].notes.append(
            f"{WORKERS} workers each (server CPU per worker {', '.join(f'{s:.1f}' for s in spent)}"
            " s); Redis round trips per lookup from INFO commandstats"
        )
        return results

    def warm(self, subjects: dict[str, Subject]) -> list[Result]:
        """7: scenario 1 at 2 workers: many commands over 5 cached flows."""
        bench, sizes = self.bench, self.bench.sizes
        flows = bench.new_flows(sizes.warm_flows)
        self.sim.set_latency(0.0)
        self.sim.reset_stats()
        started = time.monotonic()
        for subject in subjects.values():  # one miss per flow, in one worker or the other
            bench.send(
                subject, bench.commands("scale-prime", [[f] for f in flows]), concurrency=len(flows)
            )
        per = sizes.warm_requests
        lists = {name: [[flows[i % len(flows)]] for i in range(per)] for name in subjects}
        results = self._against_baseline(
            "7 warm 2w", subjects, lists, "scale-warm", total=per, latency=0.0
        )
        bot = results[BOT]
        bot.distinct_flows = len(flows)
        bot.esign_calls = self.sim.outline_calls()
        bot.esign_calls_allowed = bench.allowed_calls(len(flows), time.monotonic() - started)
        return list(results.values())

    def cold(self, subjects: dict[str, Subject]) -> list[Result]:
        """7c: scenario 2 at 2 workers: every command a new flow, e签宝 at 150 ms."""
        bench, sizes = self.bench, self.bench.sizes
        self.sim.reset_stats()
        total = sizes.cold_requests
        lists = {name: [[f] for f in bench.new_flows(total)] for name in subjects}
        distinct = len(lists[BOT])
        drain = total / sizes.rounds / bench.settings.max_qps
        results = self._against_baseline(
            "7c cold 2w",
            subjects,
            lists,
            "scale-cold",
            total=total,
            latency=COLD_LATENCY,
            answer_deadline=drain + 30,
        )
        bot = results[BOT]
        bot.distinct_flows = distinct
        bot.esign_calls = self.sim.outline_calls()
        bot.esign_calls_allowed = distinct
        bot.notes.append(
            f"answers paced by ESIGN_MAX_QPS={bench.settings.max_qps:g} for both "
            "workers together (one budget in Redis)"
        )
        return list(results.values())

    def stampede(self, bot: Subject) -> Result:
        """7s: 100 commands at once for one uncached flow, spread over both workers: 1 call."""
        bench = self.bench
        [flow] = bench.new_flows(1)
        self.sim.reset_stats()
        started = time.monotonic()
        tally = RedisTally()
        jobs = bench.commands("scale-stampede", [[flow]] * bench.sizes.stampede)
        self.sim.set_latency(STAMPEDE_LATENCY)
        meter = _Meter(bot)
        with meter.running(), self._counting(tally, len(jobs)):
            outcomes, answers = bench.send(bot, jobs, concurrency=len(jobs))
        self.sim.set_latency(0.0)
        result = summarize(Result("7s stampede 2w", BOT), outcomes, answers)
        meter.fill(result)
        tally.fill(result)
        result.distinct_flows = 1
        result.esign_calls = self.sim.outline_calls()
        result.esign_calls_allowed = bench.allowed_calls(1, time.monotonic() - started)
        result.notes.append(
            f"{len(jobs)} commands at once over {WORKERS} workers; e签宝 latency "
            f"{STAMPEDE_LATENCY * 1000:g} ms"
        )
        return result

    # --- Redis down ---------------------------------------------------------------------------

    def _paced(
        self,
        scenario: str,
        subject_name: str,
        subject: Subject,
        jobs: Sequence[Job],
        *,
        rate: float,
        latency: float,
        kill_after: float | None = None,
        tally: RedisTally | None = None,
    ) -> Result:
        bench = self.bench
        self.sim.set_latency(latency)
        meter = _Meter(subject)
        killer: threading.Timer | None = None
        if kill_after is not None:
            killer = threading.Timer(kill_after, self.redis.kill)
        counting = self._counting(tally, len(jobs)) if tally is not None else _nothing()
        with meter.running(), counting:
            if killer is not None:
                killer.start()
            try:
                outcomes, answers = bench.send(
                    subject,
                    jobs,
                    concurrency=bench.sizes.concurrency,
                    rate=rate,
                    answer_deadline=30.0,
                )
            finally:
                if killer is not None:
                    killer.join()
        result = summarize(Result(scenario, subject_name), outcomes, answers)
        meter.fill(result)
        if tally is not None:
            tally.fill(result)
        return result

    def redis_down(self, bot: Subject) -> list[Result]:
        """7p/7q: answer times at paced rates, Redis up, then killed, against the bot without
        Redis; 7k: the round during which Redis is killed (nothing may be lost)."""
        bench, sizes = self.bench, self.bench.sizes
        plain = bench.subjects["bot"]
        warm_total = max(1, round(WARM_PACED_RATE * sizes.paced_seconds))
        cold_rate = 0.8 * bench.settings.max_qps
        cold_total = max(1, round(cold_rate * sizes.paced_seconds))
        results: list[Result] = []

        warm_flows: dict[str, list[str]] = {}

        def warm_jobs(label: str, subject: Subject) -> list[Job]:
            flows = warm_flows[label] = bench.new_flows(sizes.warm_flows)
            self.sim.set_latency(0.0)
            bench.send(
                subject,
                bench.commands(f"{label}-prime", [[f] for f in flows]),
                concurrency=len(flows),
            )
            return bench.commands(label, [[flows[i % len(flows)]] for i in range(warm_total)])

        def cold_jobs(label: str) -> list[Job]:
            return bench.commands(label, [[f] for f in bench.new_flows(cold_total)])

        # Redis up (the 2-worker bot as in 7 and 7c), for reference.
        up = RedisTally()
        results.append(
            self._paced(
                "7p warm paced",
                BOT,
                bot,
                warm_jobs("sp-up", bot),
                rate=WARM_PACED_RATE,
                latency=0.0,
                tally=up,
            )
        )
        up_cold = RedisTally()
        results.append(
            self._paced(
                "7q cold paced",
                BOT,
                bot,
                cold_jobs("sq-up"),
                rate=cold_rate,
                latency=COLD_LATENCY,
                tally=up_cold,
            )
        )
        # Killed halfway through a round.
        kill_jobs = warm_jobs("sk", bot)
        killed = self._paced(
            "7k Redis killed",
            BOT,
            bot,
            kill_jobs,
            rate=WARM_PACED_RATE,
            latency=0.0,
            kill_after=sizes.paced_seconds / 2,
        )
        killed.notes.append(
            f"redis-server killed (SIGKILL) {sizes.paced_seconds / 2:g} s into the round"
        )
        results.append(killed)
        # Redis down, alternating with the bot that has no Redis at all.
        self.sim.reset_stats()
        order = ((BOT_REDIS_DOWN, bot, "down"), (BOT_NO_REDIS, plain, "plain"))
        for name, subject, slug in order:
            results.append(
                self._paced(
                    "7p warm paced",
                    name,
                    subject,
                    warm_jobs(f"sp-{slug}", subject),
                    rate=WARM_PACED_RATE,
                    latency=0.0,
                )
            )
        down = results[-2]
        calls = self.sim.outline_calls_for(warm_flows["sp-down"])
        down.distinct_flows = len(calls)
        down.esign_calls = sum(calls.values())
        down.notes.append(
            "Redis down: each worker caches on its own, so up to one e签宝 call "
            f"per flow per worker ({WORKERS} here) per TTL"
        )
        for name, subject, slug in reversed(order):
            results.append(
                self._paced(
                    "7q cold paced",
                    name,
                    subject,
                    cold_jobs(f"sq-{slug}"),
                    rate=cold_rate,
                    latency=COLD_LATENCY,
                )
            )
        for result in results:
            if result.scenario.startswith("7p"):
                result.notes.append(f"open loop at {WARM_PACED_RATE:g}/s, cache hits")
            elif result.scenario.startswith("7q"):
                result.notes.append(
                    f"open loop at {cold_rate:g}/s, each a new flow; e签宝 "
                    f"latency {COLD_LATENCY * 1000:g} ms"
                )
            if result.subject == BOT_NO_REDIS:
                result.notes.append("no REDIS_URL: 1 worker")
        self.sim.set_latency(0.0)
        return results


@contextmanager
def _nothing() -> Iterator[None]:
    yield
