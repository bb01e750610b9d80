"""The soak (`--only soak`, not in the full run): mixed traffic for `--soak-minutes` (20 by
default) against a bot of its own, faults switched on now and then.

The bot: the Procfile's `web:` command with REDIS_URL on the bench's own redis-server and
WEB_CONCURRENCY=2, production's shape when it scales out, and the only one in which "a Redis
restart" is a fault at all (watches, cache, token and call budget all live there). It talks to
an e签宝 simulator of its own (bench/soak_faults.py), so faults stay out of the other
scenarios, and to Slack through a gate that can answer 429.

Traffic, open loop in ticks of TICK_SECONDS (see `Mix`): `/esign-flow <id>` on a few warm flows
and on new ones, Recheck clicks (half on ephemeral cards, half on posted ones), the message
shortcut, Home tab opens (app_home_opened), and `/esign-flow watch <id>` on new flows; half the
watched flows move to SUCCESS some time later, half of those with e签宝's callback, half left to
the polls. After warm-up the faults take turns (bench/soak_figures.py): slow e签宝, e签宝 503 on
every call, Slack 429 on chat.postMessage/chat.update, a Redis restart. Every SAMPLE_SECONDS
the bot's RSS and open fds are read from /proc.

Targets (issue 22): RSS and fds grow under 10% from the first sample after warm-up to the
last; 0 unanswered (every request acked 200, every card landed); every moved flow's watch told
exactly once.
"""

from __future__ import annotations

import asyncio
import importlib.util
import itertools
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from bench.loadgen import CHANNEL, USER, Job, Outcome, Requests, drive
from bench.scenarios import TEMPLATE_FLOW, Bench
from bench.servers import ROOT, Subject
from bench.soak_faults import RestartableRedis, SlackGate, SoakSimulator, open_fds
from bench.soak_figures import (
    GROWTH_LIMIT,
    MB,
    FaultWindow,
    Sample,
    count_notices,
    fault_schedule,
    growth,
    latency_series,
    plot,
    verdict,
    window_at,
)
from bench.stats import Result, ms, percentile, summarize
from bench.watch import MOVED_TO, NOTICE_KEY_PREFIX, WATCH_TEMPLATE
from bot.slack.ids import ACTION_RECHECK, SHORTCUT_LOOKUP_IN_MESSAGE
from stand_ins.slack_playground.slack_requests import interaction_body, message_action_payload
from stand_ins.slack_playground.workspace import Channel, Message, User
from stand_ins.slack_sink import Answer

DEFAULT_MINUTES = 20.0
DEFAULT_PNG = ROOT / "bench" / "soak.png"
SAMPLE_SECONDS = 30.0
TICK_SECONDS = 10.0
CONCURRENCY = 16
#: e签宝's latency outside the "slow e签宝" windows, and inside them.
NORMAL_LATENCY = 0.05
SLOW_LATENCY = 2.5
#: Short, so that polls see a move soon (the poll schedule is this × 1, 2, 4, 10).
FIRST_POLL_SECONDS = 2.0
CACHE_TTL_SECONDS = 5.0
#: A watched flow moves this long after its watch was sent.
MOVE_AFTER_SECONDS = 20.0
#: The last stretch of the soak: no faults, no new moves, so that every notice can arrive.
QUIET_TAIL_SECONDS = 45.0
#: After the traffic stops, how long the soak waits at most for answers and notices.
DRAIN_SECONDS = 90.0
WATCHERS_PER_CHANNEL = 20


@dataclass(frozen=True, slots=True)
class Mix:
    """Requests per tick, by kind (about 7 a second in all)."""

    warm_commands: int = 20
    new_commands: int = 10
    rechecks: int = 15
    shortcuts: int = 10
    home_opens: int = 10
    watches: int = 5


@dataclass(frozen=True, slots=True)
class Sent:
    kind: str
    outcome: Outcome
    #: Answer keys other than the job's own under which its card may land (a thread post,
    #: a chat.update, or the response_url fallback when Slack refused the post).
    aliases: tuple[str, ...] = ()


@dataclass(slots=True)
class Move:
    due: float
    flow_id: str
    callback: bool


def warmup_seconds(seconds: float) -> float:
    """A minute, or 15% of a long soak (at most three minutes)."""
    return max(60.0, min(180.0, 0.15 * seconds))


class Soak:
    def __init__(self, bench: Bench, minutes: float = DEFAULT_MINUTES, png: Path = DEFAULT_PNG):
        self.bench = bench
        self.seconds = minutes * 60
        self.png = png
        self.warmup = warmup_seconds(self.seconds)
        self.windows = fault_schedule(self.seconds, self.warmup, QUIET_TAIL_SECONDS)
        self.mix = Mix()
        self.requests = bench.requests  # replaced by one pointing at the Slack gate in run()
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()
        self._moves: list[Move] = []
        self._moved: dict[str, tuple[float, bool, str | None]] = {}
        self._unwatched: list[str] = []
        self._watched: list[str] = []
        self.samples: list[Sample] = []
        self._fault_log: list[str] = []
        self._t0 = time.monotonic()

    # --- the run ----------------------------------------------------------------------------

    def run(self) -> list[Result]:
        if importlib.util.find_spec("matplotlib") is None:  # find out now, not after 20 minutes
            raise RuntimeError("the soak plots with matplotlib: pip install -e '.[dev]'")
        bench = self.bench
        log_dir = bench.log_dir
        self.redis = RestartableRedis(log_dir, log_dir / "soak-redis.log")
        bench.cleanups.append(self.redis.kill)
        self.redis.start()
        self.esign = SoakSimulator()
        bench.cleanups.append(self.esign.close)
        self.gate = SlackGate(bench.stand_ins.sink_url)
        bench.cleanups.append(self.gate.close)
        self.requests = Requests(self.gate.base_url)
        self.sim = self.esign.sim
        self.sim.set_latency(NORMAL_LATENCY)
        subject = bench.start_bot(
            "bot-soak",
            {
                "REDIS_URL": self.redis.url,
                "WEB_CONCURRENCY": "2",
                "ESIGN_BASE_URL": self.esign.url,
                "ESIGN_APP_ID": self.esign.app_id,
                "ESIGN_APP_SECRET": self.esign.app_secret,
                "SLACK_API_URL": self.gate.api_url,
                "WATCH_FIRST_POLL_SECONDS": f"{FIRST_POLL_SECONDS:g}",
                "CACHE_TTL_SECONDS": f"{CACHE_TTL_SECONDS:g}",
            },
        )
        self.sim.set_callback_url(f"{subject.base_url}/esign/callback")
        bench.say(
            f"soak: {self.seconds / 60:g} min, warm-up {self.warmup:g} s, "
            f"{len(self.windows)} fault windows; bot {subject.base_url} workers "
            f"{subject.worker_pids}, redis :{self.redis.port}, Slack gate {self.gate.api_url}"
        )
        try:
            return self._run(subject)
        finally:
            subject.stop()
            self.esign.close()
            self.gate.close()
            self.redis.kill()

    def _run(self, subject: Subject) -> list[Result]:
        sink = self.bench.sink
        warm = self._new_flows(5, TEMPLATE_FLOW)
        card_key = f"keep-soak-{next(self._numbers)}"
        [first] = self._drive(subject, [self.requests.command(card_key, [warm[0]])])
        card = self._wait_for_card(card_key, first)
        self._t0 = time.monotonic()
        first_answer = sink.count()
        sent: list[Sent] = []
        stop = threading.Event()
        conductor = threading.Thread(
            target=self._conduct, args=(subject, stop), name="soak-conductor", daemon=True
        )
        conductor.start()
        try:
            while self._now() < self.seconds:
                jobs = self._tick(warm, card)
                outcomes = self._drive(subject, [job for job, _, _ in jobs], rate=True)
                by_key = {o.job.key: o for o in outcomes}
                for job, kind, aliases in jobs:
                    if job.key in by_key:
                        sent.append(Sent(kind, by_key[job.key], aliases))
                self._schedule_moves(jobs)
                self.bench.say(
                    f"soak: {self._now():5.0f} s, {len(sent)} requests, "
                    f"fault: {window_at(self.windows, self._now()) or '-'}"
                )
            self._drain(sent, first_answer)
        finally:
            stop.set()
            conductor.join()
        self._sample(subject)
        return [self._result(sent, sink.answers(first_answer), sink.api_calls(self._t0))]

    def _now(self) -> float:
        return time.monotonic() - self._t0

    def _drive(self, subject: Subject, jobs: Sequence[Job], *, rate: bool = False) -> list[Outcome]:
        return asyncio.run(
            drive(
                subject.events_url,
                jobs,
                concurrency=CONCURRENCY,
                signer=self.bench.signer,
                rate=len(jobs) / TICK_SECONDS if rate and jobs else None,
            )
        )

    def _wait_for_card(self, key: str, outcome: Outcome) -> dict[str, Any]:
        """The card a command's answer carried: in its ack, or posted to the sink."""
        if outcome.carried_card() is not None:
            carried = json.loads(outcome.body)
            if isinstance(carried, dict):
                return carried
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            card = self.bench.sink.kept(key)
            if card is not None:
                return card
            time.sleep(0.1)
        raise RuntimeError("the soak bot did not answer its first command")

    def _new_flows(self, count: int, template: str) -> list[str]:
        flows = [f"2991{next(self._numbers):015d}" for _ in range(count)]
        self.sim.add_copies(template, flows)
        return flows

    # --- traffic ----------------------------------------------------------------------------

    def _tick(
        self, warm: list[str], card: dict[str, Any]
    ) -> list[tuple[Job, str, tuple[str, ...]]]:
        """One tick's requests, the kinds interleaved."""
        mix, requests = self.mix, self.requests
        by_kind: list[Sequence[tuple[Job, str, tuple[str, ...]]]] = []
        key = self._key
        by_kind.append(
            [
                (requests.command(key("cmd"), [warm[i % len(warm)]]), "command", ())
                for i in range(mix.warm_commands)
            ]
        )
        by_kind.append(
            [
                (requests.command(key("cmd"), [flow]), "command", ())
                for flow in self._new_flows(mix.new_commands, TEMPLATE_FLOW)
            ]
        )
        rechecks = []
        for index in range(mix.rechecks):
            number, ephemeral = next(self._numbers), index % 2 == 0
            token = f"soak-click-{number}"
            job = requests.recheck(
                token, card, ACTION_RECHECK, ts=f"1770000000.{number:06d}", ephemeral=ephemeral
            )
            rechecks.append((job, "recheck", () if ephemeral else (token,)))
        by_kind.append(rechecks)
        by_kind.append([self._shortcut(warm[i % len(warm)]) for i in range(mix.shortcuts)])
        by_kind.append([self._home_open() for _ in range(mix.home_opens)])
        watches = []
        for flow in self._new_flows(mix.watches, WATCH_TEMPLATE):
            number = next(self._numbers)
            channel_no = number // WATCHERS_PER_CHANNEL % 1000
            channel = Channel(f"C0SOAK{channel_no:03d}", f"soak-{channel_no}")
            user = User(f"U0S{number:07d}", f"soaker{number}", f"Soaker {number}")
            job = requests.command(key("watch"), [flow], verb="watch", channel=channel, user=user)
            watches.append((job, "watch", ()))
        by_kind.append(watches)
        return [j for group in itertools.zip_longest(*by_kind) for j in group if j]

    def _key(self, label: str) -> str:
        return f"soak-{label}-{next(self._numbers)}"

    def _shortcut(self, flow_id: str) -> tuple[Job, str, tuple[str, ...]]:
        number = next(self._numbers)
        token = f"soak-shortcut-{number}"
        message = Message(
            ts=f"1771000000.{number:06d}",
            channel_id=CHANNEL.id,
            thread_ts=None,
            user_id="U0SOMEONE",
            bot=False,
            text=f"where is flow {flow_id}?",
        )
        payload = message_action_payload(
            callback_id=SHORTCUT_LOOKUP_IN_MESSAGE,
            team_id="T0BENCH",
            team_domain="bench",
            channel=CHANNEL,
            user=USER,
            message=message,
            reply_count=0,
            parent_user_id=None,
            response_url=self.requests.response_url(token),
        )
        job = Job(token, interaction_body(payload), expected=1, flows=(flow_id,))
        return job, "shortcut", (f"post:{CHANNEL.id}:{message.ts}",)

    def _home_open(self) -> tuple[Job, str, tuple[str, ...]]:
        number = next(self._numbers)
        body = {
            "token": "bench",
            "team_id": "T0BENCH",
            "api_app_id": "A0BENCH",
            "type": "event_callback",
            "event_id": f"Ev0SOAK{number:08d}",
            "event_time": int(time.time()),
            "event": {
                "type": "app_home_opened",
                "user": f"U0H{number % 50:07d}",
                "channel": "D0HOME",
                "tab": "home",
                "event_ts": f"{time.time():.6f}",
            },
        }
        job = Job(f"soak-home-{number}", json.dumps(body).encode(), expected=0)
        return job, "home", ()

    def _schedule_moves(self, jobs: Sequence[tuple[Job, str, tuple[str, ...]]]) -> None:
        """Half the watched flows move later, alternately with and without a callback."""
        due = self._now() + MOVE_AFTER_SECONDS
        if due > self.seconds - QUIET_TAIL_SECONDS:
            return
        with self._lock:
            for job, kind, _ in jobs:
                if kind != "watch":
                    continue
                self._watched.extend(job.flows)
                if len(self._watched) % 2 == 0:
                    callback = len(self._watched) % 4 == 0
                    self._moves.append(Move(due, job.flows[0], callback))

    # --- the conductor: faults, moves and samples on the clock -----------------------------------

    def _conduct(self, subject: Subject, stop: threading.Event) -> None:
        on: set[int] = set()
        next_sample = 0.0
        while not stop.wait(0.2):
            now = self._now()
            if now >= next_sample and now <= self.seconds:
                self._sample(subject)
                next_sample += SAMPLE_SECONDS
            for index, window in enumerate(self.windows):
                if index not in on and window.start <= now < window.end:
                    on.add(index)
                    self._fault(window, begin=True)
                elif index in on and now >= window.end:
                    on.discard(index)
                    self._fault(window, begin=False)
            self._due_moves(now)
        for index in on:
            self._fault(self.windows[index], begin=False)

    def _fault(self, window: FaultWindow, *, begin: bool) -> None:
        kind = window.kind
        self._fault_log.append(f"{self._now():6.1f} s {'begin' if begin else 'end'} {kind}")
        if kind == "slow e签宝":
            self.sim.set_latency(SLOW_LATENCY if begin else NORMAL_LATENCY)
        elif kind == "e签宝 5xx":
            if begin:
                self.sim.inject_everywhere("HTTP_503")
            else:
                self.sim.clear_faults()
        elif kind == "Slack 429":
            (self.gate.begin if begin else self.gate.end)()
        elif kind == "Redis restart" and begin:
            down = self.redis.restart()
            self._fault_log.append(f"{self._now():6.1f} s redis back after {down:.1f} s")

    def _due_moves(self, now: float) -> None:
        with self._lock:
            due = [m for m in self._moves if m.due <= now]
            self._moves = [m for m in self._moves if m.due > now]
        for move in due:
            try:
                stored = self._watch_stored(move.flow_id)
            except redis.RedisError:  # restarting: try again shortly
                move.due = now + 2
                with self._lock:
                    self._moves.append(move)
                continue
            if not stored:
                self._unwatched.append(move.flow_id)
                continue
            fault = window_at(self.windows, self._now())
            if move.callback:
                self.sim.move_and_call_back(WATCH_TEMPLATE, move.flow_id, MOVED_TO)
            else:
                self.sim.move_flows(WATCH_TEMPLATE, [move.flow_id], MOVED_TO)
            self._moved[move.flow_id] = (self._now(), move.callback, fault)

    def _watch_stored(self, flow_id: str) -> bool:
        """Whether the bot stored a watch of `flow_id` (its Redis records; a start the bot
        refused, e.g. while e签宝 failed, is no watch to be told about)."""
        client = redis.Redis(host="127.0.0.1", port=self.redis.port, socket_timeout=2)
        with client:
            return any(client.scan_iter(match=f"*:state:*:by-flow:{flow_id}", count=10_000))

    def _sample(self, subject: Subject) -> None:
        subject.refresh_workers()
        pids = tuple(subject.pids())
        sample = Sample(self._now(), subject.memory().rss_kb, open_fds(pids), pids)
        self.samples.append(sample)
        self.bench.say(
            f"soak sample {sample.at:6.0f} s: RSS {sample.rss_kb / MB:.1f} MB, "
            f"fds {sample.fds}, pids {list(pids)}"
        )

    def _drain(self, sent: Sequence[Sent], since: int) -> None:
        """Wait until every request's answer and every moved flow's notice landed (or
        DRAIN_SECONDS passed)."""
        deadline = time.monotonic() + DRAIN_SECONDS
        while time.monotonic() < deadline:
            self._due_moves(self._now())
            answers = self.bench.sink.answers(since)
            keys = Counter(a.key for a in answers)
            told = {a.flow_id for a in answers if a.key.startswith(NOTICE_KEY_PREFIX)}
            waiting = sum(
                1
                for s in sent
                if s.outcome.job.expected
                and s.outcome.status == 200
                and s.outcome.carried_card() is None
                and not any(keys[k] for k in (s.outcome.job.key, *s.aliases))
            )
            with self._lock:
                pending = bool(self._moves)
            if not waiting and not pending and set(self._moved) <= told:
                break
            time.sleep(1.0)
        time.sleep(3.0)  # late duplicates

    # --- figures ----------------------------------------------------------------------------

    def _result(
        self,
        sent: Sequence[Sent],
        answers: Sequence[Answer],
        api_calls: Sequence[tuple[str, float]],
    ) -> Result:
        alias = {a: s.outcome.job.key for s in sent for a in s.aliases}
        mapped = [a._replace(key=alias.get(a.key, a.key)) for a in answers]
        people = [a for a in mapped if not a.key.startswith(NOTICE_KEY_PREFIX)]
        result = summarize(Result("soak", "bot-soak"), [s.outcome for s in sent], people)
        result.duration_s = round(self.seconds, 1)
        by_key: dict[str, list[Answer]] = {}
        for answer in people:
            by_key.setdefault(answer.key, []).append(answer)
        unanswered: Counter[str] = Counter()
        landed: list[tuple[float, float]] = []
        for s in sent:
            o = s.outcome
            got = sorted(by_key.get(o.job.key, []), key=lambda a: a.at)
            carried = o.carried_card()
            first = carried.at if carried is not None else (got[0].at if got else None)
            if o.status != 200 or (o.job.expected and first is None):
                fault = window_at(self.windows, o.sent - self._t0) or "no fault"
                unanswered[f"{s.kind} ({fault})"] += 1
            elif first is not None:
                landed.append((o.sent - self._t0, first - o.sent))
        homes_ok = sum(1 for s in sent if s.kind == "home" and s.outcome.status == 200)
        publishes = sum(1 for method, _ in api_calls if method == "views.publish")
        notices = [a for a in answers if a.key.startswith(NOTICE_KEY_PREFIX)]
        tally = count_notices(self._moved, [a.flow_id for a in notices], self._watched)
        lost_in = Counter(str(self._moved[f][2] or "no fault") for f in tally.lost)
        acks = [(s.outcome.sent - self._t0, s.outcome.ack_seconds) for s in sent]
        latencies = latency_series(acks, landed, SAMPLE_SECONDS)
        rss = growth([(s.at, s.rss_kb) for s in self.samples], self.warmup)
        fds = growth([(s.at, s.fds) for s in self.samples], self.warmup)
        result.extra.update(
            minutes=round(self.seconds / 60, 2),
            warmup_s=self.warmup,
            requests_by_kind=dict(Counter(s.kind for s in sent)),
            unanswered=sum(unanswered.values()),
            unanswered_by_kind=dict(unanswered),
            home_opens_acked=homes_ok,
            views_publish=publishes,
            watches_sent=len(self._watched),
            moved=len(self._moved),
            moved_by_callback=sum(1 for m in self._moved.values() if m[1]),
            moves_skipped_not_stored=len(self._unwatched),
            notices_told_once=tally.told_once,
            notices_lost=tally.lost,
            notices_lost_by_fault=dict(lost_in),
            notices_doubled=tally.doubled,
            notices_extra=tally.extra,
            notices_stray=tally.stray,
            slack_429s=self.gate.refused(),
            faults=self._fault_log,
            samples=[
                {"at_s": round(s.at, 1), "rss_mb": round(s.rss_kb / MB, 1), "fds": s.fds}
                for s in self.samples
            ],
            latency=[
                {
                    "at_s": p.at,
                    "ack_p50_ms": ms(p.ack_p50),
                    "ack_p99_ms": ms(p.ack_p99),
                    "card_p50_ms": ms(p.answer_p50),
                    "card_p99_ms": ms(p.answer_p99),
                }
                for p in latencies
            ],
            rss_growth=None if rss is None else round(rss.growth, 4),
            rss_peak_growth=None if rss is None else round(rss.peak_growth, 4),
            fds_growth=None if fds is None else round(fds.growth, 4),
            fds_peak_growth=None if fds is None else round(fds.peak_growth, 4),
            card_p50_ms=ms(percentile([x for _, x in landed], 0.5)),
            card_p99_ms=ms(percentile([x for _, x in landed], 0.99)),
            png=str(self.png),
        )
        result.lost = sum(unanswered.values()) + len(tally.lost)
        result.duplicated += tally.extra
        result.stray = tally.stray
        title = (
            f"soak: {self.seconds / 60:g} min, bot on Redis with 2 workers, "
            f"{len(sent)} requests, faults shaded"
        )
        plot(self.samples, latencies, self.windows, self.warmup, self.png, title)
        return result


def soak_lines(results: Sequence[Result]) -> list[str]:
    """The soak's figures and its PASS/FAIL lines (issue 22)."""
    lines: list[str] = []
    for r in results:
        x = r.extra
        if r.scenario != "soak" or "samples" not in x:
            continue
        lines.append(
            f"soak: {x['minutes']} min, warm-up {x['warmup_s']:g} s, {x['requests_by_kind']}"
        )
        lines += [f"  fault {line}" for line in x["faults"]]
        for s in x["samples"]:
            lines.append(f"  sample {s['at_s']:7.1f} s: RSS {s['rss_mb']:6.1f} MB, fds {s['fds']}")
        for p in x["latency"]:
            lines.append(
                f"  latency to {p['at_s']:6.0f} s: ack p50 {p['ack_p50_ms']} / p99 "
                f"{p['ack_p99_ms']} ms, card p50 {p['card_p50_ms']} / p99 {p['card_p99_ms']} ms"
            )
        lines.append(
            f"  ack p50 {r.ack_p50} ms, p99 {r.ack_p99} ms, max {r.ack_max} ms; card p50 "
            f"{x['card_p50_ms']} ms, p99 {x['card_p99_ms']} ms; answers {r.kinds}"
        )
        lines.append(
            f"  unanswered {x['unanswered']} {x['unanswered_by_kind']}; Home tabs: "
            f"{x['home_opens_acked']} opens acked, {x['views_publish']} views.publish; "
            f"Slack 429s answered {x['slack_429s']}"
        )
        lines.append(
            f"  notices: {x['moved']} flows moved ({x['moved_by_callback']} by callback), told "
            f"once {x['notices_told_once']}, lost {len(x['notices_lost'])} "
            f"{x['notices_lost_by_fault']}, doubled {len(x['notices_doubled'])} "
            f"(+{x['notices_extra']}), stray {x['notices_stray']}; moves skipped (watch not "
            f"stored) {x['moves_skipped_not_stored']}"
        )
        lines.append(f"  plot: {x['png']}")
        lines += _verdicts(r)
    return lines


def _verdicts(r: Result) -> list[str]:
    x = r.extra
    limit = f"under {GROWTH_LIMIT:.0%}"

    def grew(name: str) -> str:
        g, peak = x[f"{name}_growth"], x[f"{name}_peak_growth"]
        return "too few samples" if g is None else f"{g:+.1%} to the end, peak {peak:+.1%}"

    flat: Callable[[str], bool] = lambda name: (  # noqa: E731
        x[f"{name}_growth"] is not None and x[f"{name}_growth"] < GROWTH_LIMIT
    )
    return [
        verdict(flat("rss"), f"RSS flat after warm-up ({limit})", grew("rss")),
        verdict(flat("fds"), f"open fds flat after warm-up ({limit})", grew("fds")),
        verdict(
            x["unanswered"] == 0 and r.errors == 0,
            "0 unanswered requests",
            f"{x['unanswered']} unanswered, {r.errors} acks not 200",
        ),
        verdict(
            x["home_opens_acked"] <= x["views_publish"],
            "every Home tab open published",
            f"{x['views_publish']} views.publish for {x['home_opens_acked']} opens",
        ),
        verdict(
            not x["notices_lost"] and not x["notices_doubled"] and x["moved"] > 0,
            "0 notices lost or doubled",
            f"{len(x['notices_lost'])} lost, {len(x['notices_doubled'])} doubled of {x['moved']}",
        ),
    ]
