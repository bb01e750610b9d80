"""The scenarios, each run against the subjects it applies to, measured from the outside.

Every scenario works on flow ids of its own (copies of a catalogue flow added to the simulator
under new ids), so no scenario sees another's cache. Where bot and baseline both run, they run in
alternating rounds (bot, baseline, baseline, bot, …) so that a noisy neighbour on the machine
hits both alike.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.hosts import StandIns
from bench.loadgen import Client, Job, Outcome, Requests, Signer, drive
from bench.servers import ROOT, Subject, procfile_command, start_subject, subject_env
from bench.stats import Result, span, summarize
from bot.app.settings import Settings
from bot.slack.ids import ACTION_RECHECK
from stand_ins.slack_sink import Answer

#: The catalogue flow every benchmark flow is a copy of: the e签宝 docs' example, with sub-flows
#: and an agent's related flow, so cards are of a realistic size.
TEMPLATE_FLOW = "803719636976683872"
COLD_LATENCY = 0.15
STAMPEDE_LATENCY = 0.5
SLOW_LATENCY = 3.0
#: Commands per second in scenario 1p: well below what either subject can serve here.
WARM_PACED_RATE = 100.0
#: Answers that arrive this long after the expected count are still caught as duplicates.
DUPLICATE_GRACE_SECONDS = 0.5
MB = 1024.0


@dataclass(frozen=True, slots=True)
class Sizes:
    concurrency: int
    warm_requests: int  # per subject, split over the rounds
    warm_flows: int
    cold_requests: int  # per subject, split over the rounds
    rounds: int
    paced_seconds: float
    stampede: int
    slow_lookups: int
    recheck_clicks: int
    memory_flows: int
    memory_ids_per_command: int = 5
    memory_answer_window: int = 400
    memory_checkpoints: int = 5
    #: Watches in scenario 8 (10% of their flows change during the run).
    watch_flows: int = 1_000
    #: Longest wait for the polled changes' notices (seconds).
    watch_poll_wait: float = 120.0


FULL = Sizes(
    concurrency=16,
    warm_requests=2000,
    warm_flows=5,
    cold_requests=400,
    rounds=2,
    paced_seconds=6.0,
    stampede=100,
    slow_lookups=60,
    recheck_clicks=600,
    memory_flows=50_000,
)
QUICK = Sizes(
    concurrency=16,
    warm_requests=400,
    warm_flows=5,
    cold_requests=160,
    rounds=2,
    paced_seconds=3.0,
    stampede=100,
    slow_lookups=60,
    recheck_clicks=200,
    memory_flows=2_500,
    watch_flows=200,
    watch_poll_wait=60.0,
)


@dataclass(frozen=True, slots=True)
class BotSettings:
    """The bot's defaults that the scenarios and targets depend on (from bot.app.settings)."""

    cache_ttl: float
    max_qps: float
    read_timeout: float
    deadline: float
    lookup_workers: int
    cache_max_flows: int

    @classmethod
    def defaults(cls) -> BotSettings:
        fields = Settings.model_fields

        def default(name: str) -> Any:
            return fields[name].default

        return cls(
            cache_ttl=float(default("cache_ttl_seconds")),
            max_qps=float(default("esign_max_qps")) if "esign_max_qps" in fields else math.inf,
            read_timeout=float(default("esign_read_timeout")),
            deadline=float(default("esign_deadline")),
            lookup_workers=int(default("lookup_workers")),
            cache_max_flows=int(default("cache_max_flows")),
        )


@dataclass
class _Meter:
    """CPU and memory of one subject (and the bench's own CPU) over a stretch of time."""

    subject: Subject
    interval: float = 0.05
    peak_kb: int = 0
    server_cpu: float = 0.0
    loadgen_cpu: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event)

    def sample(self) -> None:
        self.peak_kb = max(self.peak_kb, self.subject.memory().rss_kb)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    @contextmanager
    def running(self) -> Iterator[None]:
        self._stop.clear()
        cpu, own = self.subject.cpu_seconds(), time.process_time()
        thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self.sample()
        thread.start()
        try:
            yield
        finally:
            self._stop.set()
            thread.join()
            self.sample()
            self.server_cpu += self.subject.cpu_seconds() - cpu
            self.loadgen_cpu += time.process_time() - own

    def fill(self, result: Result) -> None:
        memory = self.subject.memory()
        result.rss_peak_mb = round(self.peak_kb / MB, 1)
        result.rss_end_mb = round(memory.rss_kb / MB, 1)
        result.hwm_mb = round(memory.hwm_kb / MB, 1)
        if result.requests:
            result.server_cpu_ms_per_request = round(self.server_cpu / result.requests * 1000, 2)
            result.loadgen_cpu_ms_per_request = round(self.loadgen_cpu / result.requests * 1000, 2)


class Bench:
    def __init__(
        self,
        stand_ins: StandIns,
        subjects: dict[str, Subject],
        *,
        sizes: Sizes,
        signer: Signer,
        subject_env_extra: dict[str, str],
        log_dir: Path,
        client: Client = "raw",
        bot_root: Path | None = None,
        say: Callable[[str], None] = print,
    ) -> None:
        self.stand_ins = stand_ins
        self.sim = stand_ins.simulator
        self.sink = stand_ins.sink
        self.subjects = subjects
        self.sizes = sizes
        self.signer = signer
        self.requests = Requests(stand_ins.sink_url)
        self.settings = BotSettings.defaults()
        self._env_extra = subject_env_extra
        self._log_dir = log_dir
        self._client: Client = client
        self._bot_root = bot_root
        self._say = say
        self._flow_numbers = itertools.count(1)
        self._keys = itertools.count(1)
        self.extra_subjects: list[Subject] = []
        #: Run at the end whatever happens (after the subjects stop): e.g. stop a redis-server.
        self.cleanups: list[Callable[[], None]] = []

    def say(self, message: str) -> None:
        self._say(message)

    @property
    def env_extra(self) -> dict[str, str]:
        """The subjects' settings (what run.py passes to every subject)."""
        return dict(self._env_extra)

    @property
    def log_dir(self) -> Path:
        return self._log_dir

    @property
    def bot_root(self) -> Path | None:
        return self._bot_root

    def start_bot(self, name: str, extra: Mapping[str, str]) -> Subject:
        """Another bot process (the Procfile command, the bench's settings plus `extra`),
        stopped at the end of the run at the latest."""
        env = subject_env({**self._env_extra, **extra}, code_root=self._bot_root)
        subject = start_subject(
            name, procfile_command(), env, self._log_dir, cwd=self._bot_root or ROOT
        )
        self.extra_subjects.append(subject)
        return subject

    # --- helpers ------------------------------------------------------------------------------

    def new_flows(self, count: int, template: str = TEMPLATE_FLOW) -> list[str]:
        """`count` flow ids nobody has looked up yet, served by the simulator (copies of the
        catalogue flow `template`)."""
        flows = [f"2990{next(self._flow_numbers):015d}" for _ in range(count)]
        for start in range(0, len(flows), 10_000):
            self.sim.add_copies(template, flows[start : start + 10_000])
        return flows

    def key(self, label: str) -> str:
        return f"{label}-{next(self._keys)}"

    def commands(self, label: str, flow_lists: Sequence[Sequence[str]]) -> list[Job]:
        return [self.requests.command(self.key(label), flows) for flows in flow_lists]

    def send(
        self,
        subject: Subject,
        jobs: Sequence[Job],
        *,
        concurrency: int,
        rate: float | None = None,
        answer_window: int | None = None,
        answer_deadline: float = 30.0,
    ) -> tuple[list[Outcome], list[Answer]]:
        """One round: send `jobs`, then wait for their answers (and for late duplicates)."""
        base = self.sink.count()

        def answered() -> int:
            return self.sink.count() - base

        outcomes = asyncio.run(
            drive(
                subject.events_url,
                jobs,
                concurrency=concurrency,
                signer=self.signer,
                rate=rate,
                answered=answered if answer_window is not None else None,
                answer_window=answer_window,
                client=self._client,
            )
        )
        # A card the ack carried is not sent to the sink.
        expected = sum(
            o.job.expected - (o.carried_card() is not None) for o in outcomes if o.status == 200
        )
        deadline = time.monotonic() + answer_deadline
        while answered() < expected and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(DUPLICATE_GRACE_SECONDS)
        return outcomes, self.sink.answers(base)

    def _alternating(self, names: Sequence[str], rounds: int) -> list[str]:
        order: list[str] = []
        for index in range(rounds):
            order.extend(names if index % 2 == 0 else list(reversed(names)))
        return order

    def allowed_calls(self, distinct: int, seconds: float) -> int:
        """One call per distinct flow per TTL window over `seconds`."""
        return distinct * (math.floor(seconds / self.settings.cache_ttl) + 1)

    # --- checks before the scenarios ---------------------------------------------------------

    def check_signatures(self) -> dict[str, dict[str, int]]:
        """A signed request is accepted (200) and a forged one refused (401), per subject."""
        found: dict[str, dict[str, int]] = {}
        for name, subject in self.subjects.items():
            job = self.requests.command(self.key("signature"), ["help"])
            good = httpx.post(
                subject.events_url, content=job.body, headers=self.signer.headers(job.body)
            )
            forged = Signer("not-the-signing-secret").headers(job.body)
            bad = httpx.post(subject.events_url, content=job.body, headers=forged)
            found[name] = {"signed": good.status_code, "forged": bad.status_code}
        time.sleep(DUPLICATE_GRACE_SECONDS)  # the baseline answers "help" like any command
        return found

    def warm_up(self) -> dict[str, float]:
        """One real command each (imports, auth.test, connections), then idle RSS in MB."""
        flows = self.new_flows(1)
        idle: dict[str, float] = {}
        for name, subject in self.subjects.items():
            self.send(subject, self.commands("warmup", [flows]), concurrency=1)
            time.sleep(0.5)
            subject.refresh_workers()
            idle[name] = round(subject.memory().rss_kb / MB, 1)
        return idle

    # --- the scenarios -------------------------------------------------------------------------

    def compare(
        self,
        scenario: str,
        names: Sequence[str],
        make_jobs: Callable[[str, int], list[Job]],
        *,
        total: int,
        latency: float,
        rate: float | None = None,
        answer_deadline: float = 30.0,
        rounds: int | None = None,
        subjects: Mapping[str, Subject] | None = None,
        measure: Callable[[str], AbstractContextManager[object]] | None = None,
    ) -> dict[str, Result]:
        """Run `total` requests per subject, in alternating rounds.

        `subjects`: where the names point (default: the run's bot and baseline); `measure`:
        a context around each round of a subject (e.g. counting its Redis commands).
        """
        subjects = subjects if subjects is not None else self.subjects
        rounds = rounds or self.sizes.rounds
        per_round = max(1, total // rounds)
        self.sim.set_latency(latency)
        meters = {name: _Meter(subjects[name]) for name in names}
        outcomes: dict[str, list[Outcome]] = {name: [] for name in names}
        answers: dict[str, list[Answer]] = {name: [] for name in names}
        busy: dict[str, float] = dict.fromkeys(names, 0.0)
        for name in self._alternating(names, rounds):
            jobs = make_jobs(name, per_round)
            around = measure(name) if measure is not None else nullcontext()
            with meters[name].running(), around:
                sent, got = self.send(
                    subjects[name],
                    jobs,
                    concurrency=self.sizes.concurrency,
                    rate=rate,
                    answer_deadline=answer_deadline,
                )
            outcomes[name] += sent
            answers[name] += got
            busy[name] += span(sent)
        results: dict[str, Result] = {}
        for name in names:
            result = Result(scenario, name, duration_s=busy[name])
            summarize(result, outcomes[name], answers[name])
            meters[name].fill(result)
            results[name] = result
        return results

    def warm(self) -> list[Result]:
        """1: many commands over a few flows, all cache hits after the first."""
        sizes = self.sizes
        flows = self.new_flows(sizes.warm_flows)
        self.sim.set_latency(0.0)
        self.sim.reset_stats()
        started = time.monotonic()
        for subject in self.subjects.values():  # prime: one miss per flow
            self.send(
                subject, self.commands("warm-prime", [[f] for f in flows]), concurrency=len(flows)
            )

        def jobs(name: str, count: int) -> list[Job]:
            return self.commands(f"warm-{name}", [[flows[i % len(flows)]] for i in range(count)])

        results = self.compare(
            "1 warm", list(self.subjects), jobs, total=sizes.warm_requests, latency=0.0
        )
        bot = results["bot"]
        bot.distinct_flows = len(flows)
        bot.esign_calls = self.sim.outline_calls()
        bot.esign_calls_allowed = self.allowed_calls(len(flows), time.monotonic() - started)
        return list(results.values())

    def warm_paced(self) -> list[Result]:
        """1p: scenario 1 at a fixed rate well below either subject's capacity.

        Not a target of its own: at saturation (scenario 1) answer times are mostly queueing
        for the CPU; here they show what each answer costs when the server is not saturated.
        """
        flows = self.new_flows(self.sizes.warm_flows)
        self.sim.set_latency(0.0)
        for subject in self.subjects.values():
            self.send(
                subject, self.commands("warmp-prime", [[f] for f in flows]), concurrency=len(flows)
            )
        total = max(1, round(WARM_PACED_RATE * self.sizes.paced_seconds))

        def jobs(name: str, count: int) -> list[Job]:
            return self.commands(f"warmp-{name}", [[flows[i % len(flows)]] for i in range(count)])

        results = self.compare(
            "1p warm paced",
            list(self.subjects),
            jobs,
            total=total,
            latency=0.0,
            rate=WARM_PACED_RATE,
            rounds=1,
        )
        for result in results.values():
            result.notes.append(f"open loop at {WARM_PACED_RATE:g}/s, cache hits")
        return list(results.values())

    def cold(self) -> list[Result]:
        """2: every command a new flow, e签宝 at 150 ms, as fast as the acks come back.

        Acks never wait for e签宝, so the bot acks faster than it may call e签宝 (ESIGN_MAX_QPS):
        the answers queue behind the bot's own rate limit and arrive at that rate.
        """
        self.sim.reset_stats()
        distinct: list[str] = []

        def jobs(name: str, count: int) -> list[Job]:
            flows = self.new_flows(count)
            if name == "bot":
                distinct.extend(flows)
            return self.commands(f"cold-{name}", [[f] for f in flows])

        drain = self.sizes.cold_requests / self.sizes.rounds / self.settings.max_qps
        results = self.compare(
            "2 cold",
            list(self.subjects),
            jobs,
            total=self.sizes.cold_requests,
            latency=COLD_LATENCY,
            answer_deadline=drain + 30,
        )
        bot = results["bot"]
        bot.distinct_flows = len(distinct)
        bot.esign_calls = self.sim.outline_calls()
        bot.esign_calls_allowed = len(distinct)
        bot.notes.append(
            f"answers paced by ESIGN_MAX_QPS={self.settings.max_qps:g}: the bot acks faster "
            "than it may call e签宝"
        )
        return list(results.values())

    def cold_paced(self) -> list[Result]:
        """2p: every command a new flow, e签宝 at 150 ms, at 80% of the bot's e签宝 call rate."""
        rate = 0.8 * self.settings.max_qps if math.isfinite(self.settings.max_qps) else 40.0
        total = max(1, round(rate * self.sizes.paced_seconds))
        self.sim.reset_stats()

        def jobs(name: str, count: int) -> list[Job]:
            return self.commands(f"paced-{name}", [[f] for f in self.new_flows(count)])

        results = self.compare(
            "2p cold paced",
            list(self.subjects),
            jobs,
            total=total,
            latency=COLD_LATENCY,
            rate=rate,
            rounds=1,
        )
        for result in results.values():
            result.notes.append(
                f"open loop at {rate:g}/s; e签宝 latency {COLD_LATENCY * 1000:g} ms"
            )
        results["bot"].esign_calls = self.sim.outline_calls()
        results["bot"].esign_calls_allowed = total
        results["bot"].distinct_flows = total
        return list(results.values())

    def _bot_only(
        self,
        scenario: str,
        jobs: list[Job],
        *,
        concurrency: int,
        latency: float,
        subject: str = "bot",
        answer_deadline: float = 30.0,
    ) -> Result:
        self.sim.set_latency(latency)
        meter = _Meter(self.subjects[subject])
        with meter.running():
            outcomes, answers = self.send(
                self.subjects[subject],
                jobs,
                concurrency=concurrency,
                answer_deadline=answer_deadline,
            )
        result = summarize(Result(scenario, subject), outcomes, answers)
        meter.fill(result)
        return result

    def stampede(self) -> list[Result]:
        """3: many simultaneous lookups of one uncached flow: one e签宝 call."""
        [flow] = self.new_flows(1)
        self.sim.reset_stats()
        started = time.monotonic()
        jobs = self.commands("stampede", [[flow]] * self.sizes.stampede)
        result = self._bot_only("3 stampede", jobs, concurrency=len(jobs), latency=STAMPEDE_LATENCY)
        result.distinct_flows = 1
        result.esign_calls = self.sim.outline_calls()
        result.esign_calls_allowed = self.allowed_calls(1, time.monotonic() - started)
        result.notes.append(
            f"{len(jobs)} commands sent at once; e签宝 latency {STAMPEDE_LATENCY * 1000:g} ms"
        )
        return [result]

    def slow(self) -> list[Result]:
        """4: e签宝 takes seconds per call, dozens of lookups in flight: acks stay fast."""
        count = self.sizes.slow_lookups
        deadline = 3 * SLOW_LATENCY + self.settings.deadline + 15
        results: list[Result] = []
        for name in self.subjects:
            self.sim.reset_stats()
            jobs = self.commands(f"slow-{name}", [[f] for f in self.new_flows(count)])
            result = self._bot_only(
                "4 slow e签宝",
                jobs,
                concurrency=count,
                latency=SLOW_LATENCY,
                subject=name,
                answer_deadline=deadline,
            )
            if name == "bot":
                result.esign_calls = self.sim.outline_calls()
                result.esign_calls_allowed = count
                result.distinct_flows = count
            result.notes.append(
                f"{count} commands at once; e签宝 latency {SLOW_LATENCY:g} s "
                f"(bot: ESIGN_READ_TIMEOUT {self.settings.read_timeout:g} s, "
                f"ESIGN_DEADLINE {self.settings.deadline:g} s, "
                f"LOOKUP_WORKERS {self.settings.lookup_workers})"
            )
            results.append(result)
        self.sim.set_latency(0.0)
        return results

    def recheck(self) -> list[Result]:
        """5: Recheck clicks on a cached card: answered from the cache, in place."""
        bot = self.subjects["bot"]
        [flow] = self.new_flows(1)
        self.sim.set_latency(0.0)
        self.sim.reset_stats()
        started = time.monotonic()
        prime_key = self.key("keep-recheck")
        self.send(bot, [self.requests.command(prime_key, [flow])], concurrency=1)
        card = self.sink.kept(prime_key)
        if card is None:
            raise RuntimeError("the bot did not answer the command that the Recheck clicks need")
        jobs = []
        for index in range(self.sizes.recheck_clicks):
            ephemeral = index % 2 == 0
            jobs.append(
                self.requests.recheck(
                    self.key("click"),
                    card,
                    ACTION_RECHECK,
                    ts=f"1760000000.{index:06d}",
                    ephemeral=ephemeral,
                )
            )
        result = self._bot_only("5 recheck", jobs, concurrency=self.sizes.concurrency, latency=0.0)
        result.distinct_flows = 1
        result.esign_calls = self.sim.outline_calls()
        result.esign_calls_allowed = self.allowed_calls(1, time.monotonic() - started)
        result.notes.append(
            "half on ephemeral cards (replace_original via response_url), "
            "half on posted cards (chat.update)"
        )
        return [result]

    def memory(self) -> list[Result]:
        """6: RSS after many distinct flows looked up, against the same process when idle.

        A bot process of its own, so that idle is idle: the Procfile command with the same
        environment, except ESIGN_MAX_QPS=1000 (at the default 40 calls per second, 50,000
        lookups would take 21 minutes; the rate limiter holds no per-flow state).
        """
        sizes = self.sizes
        env = subject_env({**self._env_extra, "ESIGN_MAX_QPS": "1000"}, code_root=self._bot_root)
        subject = start_subject(
            "bot-memory",
            procfile_command(),
            env,
            self._log_dir,
            cwd=self._bot_root or ROOT,
        )
        self.extra_subjects.append(subject)
        try:
            return [self._memory_run(subject, sizes)]
        finally:
            subject.stop()

    def _memory_run(self, subject: Subject, sizes: Sizes) -> Result:
        self.sim.set_latency(0.0)
        per = sizes.memory_ids_per_command
        self.send(subject, self.commands("mem-warmup", [self.new_flows(per)]), concurrency=1)
        time.sleep(1.0)
        subject.refresh_workers()
        idle = subject.memory()
        flows = self.new_flows(sizes.memory_flows)
        self.sim.reset_stats()
        meter = _Meter(subject, interval=0.25)
        outcomes: list[Outcome] = []
        answers: list[Answer] = []
        checkpoints: list[dict[str, float]] = []
        chunk = math.ceil(len(flows) / sizes.memory_checkpoints)
        busy = 0.0
        with meter.running():
            for start in range(0, len(flows), chunk):
                part = flows[start : start + chunk]
                lists = [part[i : i + per] for i in range(0, len(part), per)]
                sent, got = self.send(
                    subject,
                    self.commands("mem", lists),
                    concurrency=sizes.concurrency,
                    answer_window=sizes.memory_answer_window,
                    answer_deadline=60.0,
                )
                outcomes += sent
                answers += got
                busy += span(sent)
                checkpoints.append(
                    {
                        "flows": start + len(part),
                        "rss_mb": round(subject.memory().rss_kb / MB, 1),
                    }
                )
        time.sleep(1.0)
        after = subject.memory()
        result = Result("6 memory", "bot", duration_s=busy)
        summarize(result, outcomes, answers)
        meter.fill(result)
        result.distinct_flows = len(flows)
        result.esign_calls = self.sim.outline_calls()
        result.esign_calls_allowed = len(flows)
        growth = (after.rss_kb - idle.rss_kb) / MB
        result.extra.update(
            idle_rss_mb=round(idle.rss_kb / MB, 1),
            after_rss_mb=round(after.rss_kb / MB, 1),
            growth_mb=round(growth, 1),
            idle_worker_rss_mb=round(idle.worker_rss_kb / MB, 1),
            after_worker_rss_mb=round(after.worker_rss_kb / MB, 1),
            checkpoints=checkpoints,
            cache_max_flows=self.settings.cache_max_flows,
        )
        result.notes.append(
            f"{len(flows)} distinct flows, {per} per command, ESIGN_MAX_QPS=1000; "
            f"RSS {idle.rss_kb / MB:.1f} MB idle -> {after.rss_kb / MB:.1f} MB after "
            f"(+{growth:.1f} MB)"
        )
        twice = (
            sorted(f for f, n in self.sim.outline_calls_for(flows).items() if n > 1)
            if result.esign_calls > len(flows)
            else []
        )
        if twice:
            # Every flow is asked for once, so a second fetch is the bot's retry after a failed
            # or slow answer; its log says why ("e签宝 outline retry", a warning).
            result.notes.append(
                f"{len(twice)} flows fetched more than once, e.g. {', '.join(twice[:3])}"
            )
        return result
