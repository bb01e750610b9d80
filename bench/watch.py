"""Scenario 8, watches: 1,000 watched flows (200 with --quick), 10% of them changing.

A bot process of its own (the Procfile command; its own SQLite state file; e签宝 at 150 ms):

1. start: `/esign-flow watch <id>` once per flow, from as many people in 25 channels (private
   watches: notices come by DM, conversations.open + chat.postMessage), sent at 75% of
   ESIGN_MAX_QPS since each start is a lookup, while the first watches already poll;
2. callbacks: half of the changing flows move to SUCCESS and e签宝's signed callback follows at
   once (the simulator's `send_callback`), a few per second; notice latency = the DM's arrival
   at the Slack sink − the callback's sending;
3. polling: the other half move at once, with no callback, while people look up new flows at
   60% of ESIGN_MAX_QPS for a while; notice latency = the DM's arrival − the move. Polls take at
   most POLL_SHARE of ESIGN_MAX_QPS, so with this many watches the schedule
   (WATCH_FIRST_POLL_SECONDS × 1, 2, 4, 10) cannot be kept: every watch waits its turn, about
   watches / (POLL_SHARE × ESIGN_MAX_QPS) seconds; the figures say both.

e签宝 calls come from the simulator's request log (each with its time and flow id): the watched
flows' calls after the start are the watches' own (polls and callback looks); every call counts
for the busiest one-second window. Slack calls per minute from the sink's Web API log; RSS of
the web worker from /proc.
"""

from __future__ import annotations

import sqlite3
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bench.loadgen import Job
from bench.scenarios import COLD_LATENCY, MB, Bench, _Meter
from bench.servers import Subject
from bench.stats import Result, ms, percentile, summarize
from bot.watch.poller import POLL_SHARE
from stand_ins.slack_playground.workspace import Channel, User
from stand_ins.slack_sink import Answer

#: The catalogue's flow with a carrier check running: ING, so it can be watched and can end.
WATCH_TEMPLATE = "2987365134507291136"
MOVED_TO = "SUCCESS"
FIRST_POLL_SECONDS = 1.0
#: Short, so that a poll sees a change within this long of it (it reads through the cache).
CACHE_TTL_SECONDS = 2.0
CHANNELS = 25
CHANGING = 0.10
CALLBACKS_PER_SECOND = 5.0
START_SHARE = 0.75
PEOPLE_SHARE = 0.60
#: After the last notice expected, how long more polls get to tell something twice.
DUPLICATE_GRACE_SECONDS = 3.0
NOTICE_KEY_PREFIX = "post:D"


def max_in_window(times: Iterable[float], seconds: float = 1.0) -> int:
    """The most of `times` that fall within any `seconds`-long window."""
    ordered = sorted(times)
    best = start = 0
    for end, at in enumerate(ordered):
        while at - ordered[start] >= seconds:
            start += 1
        best = max(best, end - start + 1)
    return best


def per_minute(count: int, seconds: float) -> float:
    return round(count / seconds * 60, 1) if seconds > 0 else 0.0


@dataclass(frozen=True, slots=True)
class NoticeTally:
    """The DMs the watches sent, against the flows that moved (when, by the bench's clock)."""

    latencies: list[float]
    lost: list[str]
    duplicated: int
    #: Notices for flows that never moved.
    stray: int


def tally_notices(
    notices: Sequence[Answer], moved_at: dict[str, float], watched: Iterable[str]
) -> NoticeTally:
    by_flow: dict[str, list[float]] = {}
    for notice in notices:
        if notice.flow_id is not None:
            by_flow.setdefault(notice.flow_id, []).append(notice.at)
    latencies, lost, duplicated = [], [], 0
    for flow_id, moved in moved_at.items():
        arrived = sorted(by_flow.get(flow_id, []))
        if not arrived:
            lost.append(flow_id)
            continue
        latencies.append(arrived[0] - moved)
        duplicated += len(arrived) - 1
    unmoved = set(watched) - set(moved_at)
    stray = sum(len(by_flow.get(flow_id, [])) for flow_id in unmoved)
    stray += sum(1 for notice in notices if notice.flow_id is None)
    return NoticeTally(latencies, lost, duplicated, stray)


def poll_intervals(calls: Sequence[tuple[float, str]], flows: Iterable[str]) -> list[float]:
    """Seconds between consecutive e签宝 calls for each of `flows` (the polls' cadence)."""
    wanted = set(flows)
    last: dict[str, float] = {}
    gaps: list[float] = []
    for at, flow_id in sorted(calls):
        if flow_id in wanted:
            if flow_id in last:
                gaps.append(at - last[flow_id])
            last[flow_id] = at
    return gaps


class WatchScenario:
    def __init__(self, bench: Bench) -> None:
        self.bench = bench
        self.sim = bench.sim
        self.sink = bench.sink
        self.qps = bench.settings.max_qps
        self.state_path = bench.log_dir / "watch-state.sqlite3"

    def run(self) -> list[Result]:
        bench = self.bench
        subject = bench.start_bot(
            "bot-watch",
            {
                "WATCH_FIRST_POLL_SECONDS": f"{FIRST_POLL_SECONDS:g}",
                "CACHE_TTL_SECONDS": f"{CACHE_TTL_SECONDS:g}",
                "STATE_DB_PATH": str(self.state_path),
            },
        )
        try:
            return self._run(subject)
        finally:
            self.sim.set_callback_url(None)
            self.sim.set_latency(0.0)
            subject.stop()

    def _watch_jobs(self, flows: Sequence[str]) -> list[Job]:
        jobs = []
        for index, flow_id in enumerate(flows):
            channel = Channel(f"C0WATCH{index % CHANNELS:02d}", f"watch-{index % CHANNELS}")
            user = User(f"U0W{index:06d}", f"watcher{index}", f"Watcher {index}")
            key = self.bench.key("watch")
            jobs.append(
                self.bench.requests.command(
                    key, [flow_id], verb="watch", channel=channel, user=user
                )
            )
        return jobs

    def _watch_count(self) -> int:
        with sqlite3.connect(f"file:{self.state_path}?mode=ro", uri=True, timeout=5) as db:
            return int(db.execute("SELECT COUNT(*) FROM watches").fetchone()[0])

    def _run(self, subject: Subject) -> list[Result]:
        bench, sim = self.bench, self.sim
        count = bench.sizes.watch_flows
        sim.set_callback_url(f"{subject.base_url}/esign/callback")
        sim.set_latency(0.0)
        bench.send(subject, bench.commands("watch-warmup", [bench.new_flows(1)]), concurrency=1)
        time.sleep(0.5)
        subject.refresh_workers()
        idle_worker_kb = subject.memory().worker_rss_kb
        flows = bench.new_flows(count, template=WATCH_TEMPLATE)
        sim.set_latency(COLD_LATENCY)
        sim.reset_stats()
        meter = _Meter(subject, interval=0.25)
        started = time.monotonic()
        notices_from = self.sink.count()

        # 1. start the watches
        start_rate = START_SHARE * self.qps
        with meter.running():
            outcomes, answers = bench.send(
                subject,
                self._watch_jobs(flows),
                concurrency=bench.sizes.concurrency,
                rate=start_rate,
                answer_deadline=60.0,
            )
        start = summarize(Result("8s watch start", "bot-watch"), outcomes, _not_notices(answers))
        meter.fill(start)
        start.notes.append(
            f"/esign-flow watch <id> at {start_rate:g}/s from {count} people in {CHANNELS} "
            f"channels; e签宝 latency {COLD_LATENCY * 1000:g} ms"
        )
        watching = self._watch_count()
        start.extra["watches_stored"] = watching
        after_start_kb = subject.memory().worker_rss_kb
        watches_wall, watches_mono = time.time(), time.monotonic()
        bench.say(f"watch: {watching} watches stored after {watches_mono - started:.0f} s")

        changing = max(2, round(count * CHANGING))
        moved = flows[:: max(1, count // changing)][:changing]
        # Interleaved, so that the polled ones are spread over the poller's queue (it takes
        # the watches in the order they are due, which is the order they were started).
        called_back, polled = moved[0::2], moved[1::2]

        # 2. callbacks
        moved_at: dict[str, float] = {}
        with meter.running():
            for flow_id in called_back:
                moved_at[flow_id] = sim.move_and_call_back(WATCH_TEMPLATE, flow_id, MOVED_TO)
                time.sleep(1 / CALLBACKS_PER_SECOND)
            self._wait_for(set(called_back), notices_from, deadline=10.0)
        callback_done_wall = time.time()

        # 3. polling, with people's lookups alongside for a while
        cycle = watching / (POLL_SHARE * self.qps)
        poll_moved = sim.move_flows(WATCH_TEMPLATE, polled, MOVED_TO)
        poll_moved_wall = time.time()
        for flow_id in polled:
            moved_at[flow_id] = poll_moved
        people_rate = PEOPLE_SHARE * self.qps
        people_total = round(people_rate * min(cycle / 2, 4 * bench.sizes.paced_seconds))
        with meter.running():
            people_outcomes, people_answers = bench.send(
                subject,
                bench.commands("watch-people", [[f] for f in bench.new_flows(people_total)]),
                concurrency=bench.sizes.concurrency,
                rate=people_rate,
            )
            poll_wait = min(1.5 * cycle + 30, bench.sizes.watch_poll_wait)
            self._wait_for(set(moved), notices_from, deadline=poll_wait)
            time.sleep(DUPLICATE_GRACE_SECONDS)
        ended_wall, ended = time.time(), time.monotonic()
        people = summarize(
            Result("8p people + watches", "bot-watch"),
            people_outcomes,
            _not_notices(people_answers),
        )
        people.notes.append(
            f"new flows at {people_rate:g}/s while {watching} watches poll; e签宝 latency "
            f"{COLD_LATENCY * 1000:g} ms"
        )

        notices = [
            a for a in self.sink.answers(notices_from) if a.key.startswith(NOTICE_KEY_PREFIX)
        ]
        calls = sim.outline_call_times()
        slack = self.sink.api_calls(since=watches_mono)
        result = Result("8 watch", "bot-watch", duration_s=round(ended - started, 1))
        meter.fill(result)
        watched = set(flows)
        cb = tally_notices(notices, {f: moved_at[f] for f in called_back}, [])
        pl = tally_notices(notices, {f: moved_at[f] for f in polled}, [])
        everything = tally_notices(notices, moved_at, watched)
        result.lost = len(everything.lost)
        result.duplicated = everything.duplicated
        result.stray = everything.stray
        result.answers_expected = len(moved)
        result.answered = len(moved) - result.lost
        result.kinds = dict(Counter(a.kind for a in notices))

        watch_calls_after = [t for t, f in calls if f in watched and t >= watches_wall]
        polling_window = ended_wall - callback_done_wall
        polls_only = [t for t in watch_calls_after if t >= callback_done_wall]
        all_times = [t for t, _ in calls]
        share_per_minute = POLL_SHARE * self.qps * 60
        intervals = poll_intervals(
            [(t, f) for t, f in calls if t >= poll_moved_wall], watched - set(moved)
        )
        slack_methods = Counter(method for method, _ in slack)
        slack_seconds = ended - watches_mono
        result.esign_calls = len(watch_calls_after)
        result.distinct_flows = len(watched)
        result.extra.update(
            watches=watching,
            changed=len(moved),
            callback_notices=len(cb.latencies),
            callback_p50_ms=ms(percentile(cb.latencies, 0.5)),
            callback_p95_ms=ms(percentile(cb.latencies, 0.95)),
            callback_max_ms=ms(max(cb.latencies) if cb.latencies else None),
            callback_lost=cb.lost,
            polling_notices=len(pl.latencies),
            polling_p50_s=_s(percentile(pl.latencies, 0.5)),
            polling_p95_s=_s(percentile(pl.latencies, 0.95)),
            polling_max_s=_s(max(pl.latencies) if pl.latencies else None),
            polling_lost=pl.lost,
            schedule_s=[FIRST_POLL_SECONDS * f for f in (1, 2, 4, 10)],
            poll_cycle_s=round(cycle, 1),
            poll_wait_s=round(poll_wait, 1),
            polls_per_second=round(len(polls_only) / polling_window, 2),
            poll_cycle_measured_s=(
                round(watching * polling_window / len(polls_only), 1) if polls_only else None
            ),
            poll_interval_p50_s=_s(percentile(intervals, 0.5)),
            poll_interval_p95_s=_s(percentile(intervals, 0.95)),
            watch_calls_per_minute=per_minute(len(polls_only), polling_window),
            watch_calls_per_minute_with_callbacks=per_minute(
                len(watch_calls_after), ended_wall - watches_wall
            ),
            watch_share_per_minute=share_per_minute,
            watch_max_calls_1s=max_in_window(polls_only),
            total_max_calls_1s=max_in_window(all_times),
            max_qps=self.qps,
            total_calls=len(all_times),
            slack_calls_per_minute=per_minute(len(slack), slack_seconds),
            slack_calls_by_method={
                m: per_minute(n, slack_seconds) for m, n in slack_methods.items()
            },
            worker_rss_idle_mb=round(idle_worker_kb / MB, 1),
            worker_rss_after_start_mb=round(after_start_kb / MB, 1),
            worker_rss_end_mb=round(subject.memory().worker_rss_kb / MB, 1),
        )
        if len(calls) >= 19_000:
            result.notes.append("simulator request log near its cap: early calls may be missing")
        result.notes.append(
            f"{watching} watches, {len(moved)} moved ({len(called_back)} with a callback, "
            f"{len(polled)} found by polling); WATCH_FIRST_POLL_SECONDS={FIRST_POLL_SECONDS:g}, "
            f"CACHE_TTL_SECONDS={CACHE_TTL_SECONDS:g}"
        )
        return [start, people, result]

    def _wait_for(self, flows: set[str], since: int, *, deadline: float) -> None:
        until = time.monotonic() + deadline
        while time.monotonic() < until:
            told = {
                a.flow_id for a in self.sink.answers(since) if a.key.startswith(NOTICE_KEY_PREFIX)
            }
            if flows <= told:
                return
            time.sleep(0.2)


def _not_notices(answers: Sequence[Answer]) -> list[Answer]:
    """People's answers only: the watches' DMs arriving meanwhile are counted on their own."""
    return [a for a in answers if not a.key.startswith(NOTICE_KEY_PREFIX)]


def _s(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 2)


def watch_lines(results: Sequence[Result]) -> list[str]:
    """The watch figures that do not fit the table's columns."""
    lines = []
    for result in results:
        x = result.extra
        if result.scenario != "8 watch" or "watches" not in x:
            continue
        lines += [
            f"watches {x['watches']}, moved {x['changed']}; notices {result.answered}/"
            f"{result.answers_expected}, lost {result.lost}, duplicated {result.duplicated}, "
            f"stray {result.stray}",
            f"callback -> notice: p50 {x['callback_p50_ms']} ms, p95 {x['callback_p95_ms']} ms, "
            f"max {x['callback_max_ms']} ms ({x['callback_notices']} notices)",
            f"change -> notice by polling: p50 {x['polling_p50_s']} s, p95 {x['polling_p95_s']} s,"
            f" max {x['polling_max_s']} s ({x['polling_notices']} notices within "
            f"{x['poll_wait_s']} s; not told {len(x['polling_lost'])})",
            f"  schedule {x['schedule_s']} s per watch; {x['watches']} watches at {POLL_SHARE:.0%} "
            f"of {x['max_qps']:g}/s would be one poll each per {x['poll_cycle_s']} s; measured "
            f"{x['polls_per_second']} polls/s, i.e. one per {x['poll_cycle_measured_s']} s "
            f"(poll interval of one watch p50 {x['poll_interval_p50_s']} s)",
            f"watches' e签宝 calls: {x['watch_calls_per_minute']}/min polling only "
            f"(share {x['watch_share_per_minute']:g}/min), "
            f"{x['watch_calls_per_minute_with_callbacks']}/min with the callbacks' looks; busiest "
            f"1 s: {x['watch_max_calls_1s']} (watches), {x['total_max_calls_1s']} (all calls, "
            f"ESIGN_MAX_QPS {x['max_qps']:g})",
            f"Slack calls: {x['slack_calls_per_minute']}/min ({x['slack_calls_by_method']})",
            f"worker RSS: {x['worker_rss_idle_mb']} MB idle, {x['worker_rss_after_start_mb']} MB "
            f"with the watches, {x['worker_rss_end_mb']} MB at the end, peak (master + worker) "
            f"{result.rss_peak_mb} MB",
        ]
    return lines
