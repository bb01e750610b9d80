"""Scenario 9, the floor: the bot against a bare Bolt app on the figures a person feels, warm.

At 8 and at 16 commands in flight, in interleaved rounds (bot, baseline, baseline, bot, …),
over a few cached flows. Each round is summarised on its own, so that a tail that comes back in
one round shows, and all of a subject's rounds together give its figures for the run. The
targets (issue 14) are checked on both: the run's figures, and every round's ack p99 against
the bare app's in the same round pair.

Variants: `floor` (the Procfile's `web:` line, one worker, against the bare app with one),
`floor-2w` (the bot with `REDIS_URL` and 2 workers against the bare app with 2), and
`floor-socket` (the Procfile's `worker:` line over Socket Mode against a bare Bolt Socket Mode
app: bench/socket_floor.py).
"""

from __future__ import annotations

import contextlib
import gc
import os
import statistics
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.loadgen import Job, Outcome
from bench.redis_host import RedisProcess
from bench.scale_out import two_worker_subjects
from bench.scenarios import Bench, _Meter
from bench.servers import (
    GC_PROBE_ENV,
    Subject,
)
from bench.stats import Result, span, summarize
from stand_ins.slack_sink import Answer

BOT = "bot"
BASELINE = "baseline"
CONCURRENCIES = (8, 16)

#: One round of one subject: what it sent and what landed, timed from its first send.
Round = tuple[list[Outcome], list[Answer]]
#: Sends one round of jobs to a subject at a concurrency: the bench's HTTP path, or another
#: transport (Socket Mode) with the same outcome and answer records.
Sender = Callable[[str, Sequence[Job], int], Round]


@dataclass(frozen=True, slots=True)
class FloorSizes:
    rounds: int
    per_round: int
    flows: int = 5


FULL_FLOOR = FloorSizes(rounds=5, per_round=1000)
QUICK_FLOOR = FloorSizes(rounds=5, per_round=250)


def round_figures(outcomes: Sequence[Outcome], answers: Sequence[Answer]) -> dict[str, float]:
    """One round's figures (ms, requests per second)."""
    result = summarize(Result("round", "-"), outcomes, answers)
    return {
        "requests": result.requests,
        "req_s": result.requests_per_second or 0.0,
        "ack_p99": result.ack_p99 or 0.0,
        "answer_p50": result.answer_p50 or 0.0,
        "answer_p99": result.answer_p99 or 0.0,
        "lost": result.lost,
    }


@contextlib.contextmanager
def collector_held() -> Iterator[None]:
    """No cyclic garbage collection in the bench process while a round runs.

    The load generator, the Socket Mode endpoints and every result so far live in this
    process; late in a full run a full collection here took 100-370 ms, and every ack in
    flight was read that much later. Collections come with allocations, and the subject whose
    acks are bigger (the bot's carry a card) allocates more, so they fell in its rounds: what
    looked like the bot's tail was the bench's. The garbage of a round is collected before the
    next one starts, outside any timing.
    """
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def alternating(names: Sequence[str], rounds: int) -> list[tuple[int, str]]:
    """(round number, subject) in the order run: bot, baseline, baseline, bot, …"""
    order: list[tuple[int, str]] = []
    for index in range(rounds):
        pair = names if index % 2 == 0 else list(reversed(names))
        order.extend((index, name) for name in pair)
    return order


def compare_rounds(
    scenario: str,
    send: Sender,
    make_jobs: Callable[[str, int], list[Job]],
    *,
    concurrency: int,
    sizes: FloorSizes,
    meters: Mapping[str, _Meter] | None = None,
) -> list[Result]:
    """Run `sizes.rounds` interleaved rounds per subject; one Result per subject, holding the
    pooled figures and, in extra["rounds"], each round's."""
    names = [BOT, BASELINE]
    pooled: dict[str, tuple[list[Outcome], list[Answer]]] = {n: ([], []) for n in names}
    busy = dict.fromkeys(names, 0.0)
    per_round: dict[str, list[dict[str, float]]] = {n: [] for n in names}
    for _, name in alternating(names, sizes.rounds):
        jobs = make_jobs(name, sizes.per_round)
        meter = meters.get(name) if meters else None
        with collector_held():
            if meter is not None:
                with meter.running():
                    outcomes, answers = send(name, jobs, concurrency)
            else:
                outcomes, answers = send(name, jobs, concurrency)
        pooled[name][0].extend(outcomes)
        pooled[name][1].extend(answers)
        busy[name] += span(outcomes)
        per_round[name].append(round_figures(outcomes, answers))
    results: list[Result] = []
    for name in names:
        result = Result(scenario, name, duration_s=busy[name])
        summarize(result, *pooled[name])
        if meters and name in meters:
            meters[name].fill(result)
        result.extra["rounds"] = per_round[name]
        result.extra["concurrency"] = concurrency
        slowest = (result.ack_p99 or 0.0) / 1000
        result.extra["slow_acks"] = [
            (o.sent, o.acked) for o in pooled[name][0] if o.ack_seconds >= slowest
        ]
        results.append(result)
    results[0].extra["round_ratios"] = ratios(per_round[BOT], per_round[BASELINE])
    return results


def ratios(
    ours: Sequence[dict[str, float]], theirs: Sequence[dict[str, float]]
) -> dict[str, list[float]]:
    """Per round pair: bot / baseline for throughput and the ack and answer p99s, and the
    answer p50 gap in ms."""
    found: dict[str, list[float]] = {
        "req_s": [],
        "ack_p99": [],
        "answer_p99": [],
        "answer_p50_gap_ms": [],
    }
    for mine, bare in zip(ours, theirs, strict=True):
        for key in ("req_s", "ack_p99", "answer_p99"):
            found[key].append(round(mine[key] / bare[key], 3) if bare[key] else float("inf"))
        found["answer_p50_gap_ms"].append(round(mine["answer_p50"] - bare["answer_p50"], 1))
    return found


def spread(values: Sequence[float]) -> str:
    """min / median / max, for a line of the report."""
    if not values:
        return "-"
    return f"{min(values):.2f} / {statistics.median(values):.2f} / {max(values):.2f}"


class Floor:
    def __init__(self, bench: Bench, sizes: FloorSizes) -> None:
        self.bench = bench
        self.sizes = sizes

    def _sender(self, subjects: Mapping[str, Subject]) -> Sender:
        def send(name: str, jobs: Sequence[Job], concurrency: int) -> Round:
            return self.bench.send(subjects[name], jobs, concurrency=concurrency)

        return send

    def _warm_rounds(
        self, label: str, subjects: Mapping[str, Subject], send: Sender | None = None
    ) -> list[Result]:
        """`send`: how a round reaches a subject (default: the bench's HTTP path)."""
        bench = self.bench
        if send is None:
            send = self._sender(subjects)
        flows = bench.new_flows(self.sizes.flows)
        bench.sim.set_latency(0.0)
        bench.sim.reset_stats()
        started = time.monotonic()
        for name in subjects:  # prime: one miss per flow (per worker at most)
            send(name, bench.commands("floor-prime", [[f] for f in flows] * 2), len(flows))

        def jobs(name: str, count: int) -> list[Job]:
            return bench.commands(f"floor-{name}", [[flows[i % len(flows)]] for i in range(count)])

        results: list[Result] = []
        for concurrency in CONCURRENCIES:
            meters = {name: _Meter(subject) for name, subject in subjects.items()}
            pair = compare_rounds(
                f"{label} c{concurrency}",
                send,
                jobs,
                concurrency=concurrency,
                sizes=self.sizes,
                meters=meters,
            )
            probe = os.environ.get(GC_PROBE_ENV)
            if probe:
                for result in pair:
                    subject = subjects[result.subject]
                    subject.refresh_workers()
                    note_gc_pauses(result, Path(probe), subject.pids())
            results += pair
        bot = results[0]
        bot.distinct_flows = len(flows)
        bot.esign_calls = bench.sim.outline_calls()
        bot.esign_calls_allowed = bench.allowed_calls(len(flows), time.monotonic() - started)
        return results

    def one_worker(self) -> list[Result]:
        """9: the run's bot and bare app (one worker each)."""
        return self._warm_rounds("9 floor", self.bench.subjects)

    def two_workers(self) -> list[Result]:
        """9r: the bot on Redis with 2 workers against the bare app with 2."""
        bench = self.bench
        redis = RedisProcess(bench.log_dir, bench.log_dir / "redis-floor.log")
        bench.cleanups.append(redis.kill)
        redis.start()
        try:
            with two_worker_subjects(bench, redis, "floor-2w") as (bot, baseline):
                return self._warm_rounds("9r floor 2w", {BOT: bot, BASELINE: baseline})
        finally:
            redis.kill()


# --- GC pauses (bench/run.py --gc-probe) ---------------------------------------------------------


def gc_pauses(probe_dir: Path, pids: Sequence[int]) -> list[tuple[float, float, int]]:
    """(monotonic start, ms, generation) of every pause of 1 ms or more the probe logged."""
    pauses: list[tuple[float, float, int]] = []
    for pid in pids:
        path = probe_dir / f"gc-{pid}.log"
        if not path.exists():
            continue
        for line in path.read_text(encoding="ascii").splitlines():
            start, took, generation = line.split()
            pauses.append((float(start), float(took), int(generation)))
    return pauses


def note_gc_pauses(result: Result, probe_dir: Path, pids: Sequence[int]) -> None:
    """How many GC pauses happened while the result's rounds ran, and how many of its slowest
    acks (at or above its ack p99) waited through one."""
    slow: list[tuple[float, float]] = result.extra.get("slow_acks", [])
    began = min((sent for sent, _ in slow), default=0.0)
    ended = max((acked for _, acked in slow), default=0.0)
    window = [p for p in gc_pauses(probe_dir, pids) if began - 5 <= p[0] <= ended + 1]
    overlapped = sum(
        1
        for sent, acked in slow
        if any(start < acked and start + took / 1000 > sent for start, took, _ in window)
    )
    result.extra["gc"] = {
        "pauses_over_1ms": len(window),
        "full_collections": sum(1 for _, _, generation in window if generation == 2),
        "longest_ms": max((took for _, took, _ in window), default=0.0),
        "slow_acks": len(slow),
        "slow_acks_in_a_pause": overlapped,
    }


# --- the targets and the per-round lines ---------------------------------------------------------

THROUGHPUT_AT_LEAST = 1.10
ACK_P99_AT_MOST = 1.00
ROUND_ACK_P99_AT_MOST = 1.5
ANSWER_P50_MARGIN_MS = 3.0
ANSWER_P99_AT_MOST = 1.00
#: Scenario name prefixes and what they compare.
VARIANTS = {
    "9": "1 worker",
    "9r": "2 workers, Redis",
    "9s": "Socket Mode",
}


@dataclass(frozen=True, slots=True)
class Check:
    label: str
    passed: bool
    detail: str


def floor_checks(bot: Result, baseline: Result) -> list[Check]:
    """Issue 14's targets for one variant at one concurrency."""

    def ratio(attribute: str) -> float:
        ours, theirs = getattr(bot, attribute), getattr(baseline, attribute)
        return ours / theirs if ours is not None and theirs else float("inf")

    throughput = (bot.requests_per_second or 0.0) / (baseline.requests_per_second or 1.0)
    rounds = bot.extra.get("round_ratios", {}).get("ack_p99", [])
    worst = max(rounds) if rounds else float("inf")
    gap = (bot.answer_p50 or 0.0) - (baseline.answer_p50 or 0.0)
    return [
        Check(
            f"throughput ≥ {THROUGHPUT_AT_LEAST:.2f}×",
            throughput >= THROUGHPUT_AT_LEAST,
            f"{throughput:.2f}×",
        ),
        Check(
            f"ack p99 ≤ {ACK_P99_AT_MOST:.2f}×",
            ratio("ack_p99") <= ACK_P99_AT_MOST,
            f"{ratio('ack_p99'):.2f}× ({bot.ack_p99} vs {baseline.ack_p99} ms)",
        ),
        Check(
            f"every round's ack p99 ≤ {ROUND_ACK_P99_AT_MOST:g}×",
            worst <= ROUND_ACK_P99_AT_MOST,
            f"worst {worst:.2f}×",
        ),
        Check(
            f"answer p50 ≤ bare + {ANSWER_P50_MARGIN_MS:g} ms",
            gap <= ANSWER_P50_MARGIN_MS,
            f"{gap:+.1f} ms ({bot.answer_p50} vs {baseline.answer_p50} ms)",
        ),
        Check(
            f"answer p99 ≤ {ANSWER_P99_AT_MOST:.2f}×",
            ratio("answer_p99") <= ANSWER_P99_AT_MOST,
            f"{ratio('answer_p99'):.2f}× ({bot.answer_p99} vs {baseline.answer_p99} ms)",
        ),
    ]


def floor_pairs(results: Sequence[Result]) -> list[tuple[str, Result, Result]]:
    """(scenario, bot, baseline) for every floor scenario run, in run order."""
    found: dict[str, dict[str, Result]] = {}
    for result in results:
        if result.scenario.split(" ")[0] in VARIANTS and "rounds" in result.extra:
            found.setdefault(result.scenario, {})[result.subject] = result
    return [
        (scenario, pair[BOT], pair[BASELINE])
        for scenario, pair in found.items()
        if BOT in pair and BASELINE in pair
    ]


def floor_lines(results: Sequence[Result]) -> list[str]:
    """Each floor scenario's rounds: the figures per round, and the spread of the ratios."""
    lines: list[str] = []
    for scenario, bot, baseline in floor_pairs(results):
        lines.append(
            f"{scenario} ({VARIANTS[scenario.split(' ')[0]]}, "
            f"{bot.extra['concurrency']} in flight), per round (bot | bare app):"
        )
        for index, (mine, bare) in enumerate(
            zip(bot.extra["rounds"], baseline.extra["rounds"], strict=True), start=1
        ):
            lines.append(
                f"  round {index}: req/s {mine['req_s']:.0f} | {bare['req_s']:.0f}   "
                f"ack p99 {mine['ack_p99']:.1f} | {bare['ack_p99']:.1f}   "
                f"answer p50 {mine['answer_p50']:.1f} | {bare['answer_p50']:.1f}   "
                f"p99 {mine['answer_p99']:.1f} | {bare['answer_p99']:.1f}"
            )
        for subject in (bot, baseline):
            seen = subject.extra.get("gc")
            if seen:
                lines.append(
                    f"  GC ({subject.subject}): {seen['pauses_over_1ms']} pauses ≥ 1 ms "
                    f"({seen['full_collections']} full), longest {seen['longest_ms']:.1f} ms; "
                    f"{seen['slow_acks_in_a_pause']} of the {seen['slow_acks']} slowest acks "
                    "waited through one"
                )
        r = bot.extra["round_ratios"]
        lines.append(
            f"  ratios per round, min / median / max: throughput {spread(r['req_s'])}; "
            f"ack p99 {spread(r['ack_p99'])}; answer p99 {spread(r['answer_p99'])}; "
            f"answer p50 gap (ms) {spread(r['answer_p50_gap_ms'])}"
        )
    return lines
