"""Scenario 10, channel messages: the bot's automatic answers against a bare Bolt app that
answers message events.

8 message events in flight, in interleaved rounds (bot, baseline, baseline, bot, …), as the
floor runs them (bench/floor.py): half the messages name a flow the bot has cached (each gets
one answer in its thread: the bot's card, the bare app's fixed text), half name none (no
answer, and for the bot no lookup, no store write, no Web API call). Each message is its own
thread, so every one naming a flow is answered. The checks are the slash command's floors on
what the issue asks of events: the bot's ack p99 and throughput against the bare app's.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Sequence

from bench.floor import (
    ACK_P99_AT_MOST,
    BASELINE,
    BOT,
    ROUND_ACK_P99_AT_MOST,
    THROUGHPUT_AT_LEAST,
    FloorSizes,
    Round,
    compare_rounds,
    spread,
)
from bench.loadgen import CHANNEL, TEAM_ID, USER, Job
from bench.report import Target
from bench.scenarios import Bench, _Meter
from bench.stats import Result

SCENARIO = "10 messages c8"
CONCURRENCY = 8
JSON = "application/json"
_CHATTER = "早上好, the customer called again about their verification, see notes"


class ChannelMessages:
    def __init__(self, bench: Bench, sizes: FloorSizes) -> None:
        self.bench = bench
        self.sizes = sizes
        self._numbers = itertools.count(1)

    def message(self, label: str, flow_id: str | None) -> Job:
        """A person's message in the channel as Slack delivers it; its answer lands under
        `post:<channel>:<its ts>` at the sink (a thread of its own)."""
        n = next(self._numbers)
        ts = f"{1_765_000_000 + n}.{n % 1_000_000:06d}"
        text = f"客户 {flow_id} 一直卡着" if flow_id else f"{_CHATTER} #{n}"
        body = {
            "type": "event_callback",
            "team_id": TEAM_ID,
            "api_app_id": "A0BENCH",
            "event_id": f"Ev0{label.upper()}{n:09d}",
            "event_time": int(time.time()),
            "event": {
                "type": "message",
                "channel": CHANNEL.id,
                "channel_type": "channel",
                "user": USER.id,
                "text": text,
                "ts": ts,
                "event_ts": ts,
            },
        }
        return Job(
            f"post:{CHANNEL.id}:{ts}",
            json.dumps(body, ensure_ascii=False).encode(),
            expected=1 if flow_id else 0,
            flows=(flow_id,) if flow_id else (),
            content_type=JSON,
        )

    def run(self) -> list[Result]:
        bench = self.bench
        subjects = bench.subjects
        flows = bench.new_flows(self.sizes.flows)
        bench.sim.set_latency(0.0)
        bot = subjects[BOT]
        # The channel asks for answers, and the flows are cached (a command each, twice).
        bench.send(
            bot, [bench.requests.command(bench.key("auto-on"), ["on"], verb="auto")], concurrency=1
        )
        for name in subjects:
            bench.send(
                subjects[name],
                bench.commands("messages-prime", [[f] for f in flows] * 2),
                concurrency=len(flows),
            )
        bench.sim.reset_stats()

        def jobs(name: str, count: int) -> list[Job]:
            return [
                self.message(name, flows[i // 2 % len(flows)] if i % 2 == 0 else None)
                for i in range(count)
            ]

        def send(name: str, round_jobs: Sequence[Job], concurrency: int) -> Round:
            return bench.send(subjects[name], round_jobs, concurrency=concurrency)

        meters = {name: _Meter(subject) for name, subject in subjects.items()}
        results = compare_rounds(
            SCENARIO, send, jobs, concurrency=CONCURRENCY, sizes=self.sizes, meters=meters
        )
        results[0].distinct_flows = len(flows)
        results[0].esign_calls = bench.sim.outline_calls()
        for result in results:
            result.notes.append("half the messages name a cached flow, half name none")
        return results


def _pair(results: Sequence[Result]) -> tuple[Result, Result] | None:
    found = {r.subject: r for r in results if r.scenario == SCENARIO}
    return (found[BOT], found[BASELINE]) if BOT in found and BASELINE in found else None


def message_targets(results: Sequence[Result]) -> list[Target]:
    """The slash command's floors, on the message events' acks and throughput."""
    pair = _pair(results)
    if pair is None:
        return []
    bot, bare = pair
    throughput = (bot.requests_per_second or 0.0) / (bare.requests_per_second or 1.0)
    ack = (bot.ack_p99 or 0.0) / (bare.ack_p99 or 1.0)
    worst = max(bot.extra.get("round_ratios", {}).get("ack_p99", [float("inf")]))
    checks = [
        (
            f"throughput ≥ {THROUGHPUT_AT_LEAST:.2f}×",
            throughput >= THROUGHPUT_AT_LEAST,
            f"{throughput:.2f}×",
        ),
        (
            f"ack p99 ≤ {ACK_P99_AT_MOST:.2f}×",
            ack <= ACK_P99_AT_MOST,
            f"{ack:.2f}× ({bot.ack_p99} vs {bare.ack_p99} ms)",
        ),
        (
            f"every round's ack p99 ≤ {ROUND_ACK_P99_AT_MOST:g}×",
            worst <= ROUND_ACK_P99_AT_MOST,
            f"worst {worst:.2f}×",
        ),
        (
            "every message naming a flow answered once, the others never",
            bot.lost == 0 and bot.duplicated == 0 and bot.stray == 0,
            f"lost {bot.lost}, duplicated {bot.duplicated}, stray {bot.stray}",
        ),
    ]
    detail = "; ".join(f"{'ok' if ok else 'MISSED'} {label}: {what}" for label, ok, what in checks)
    return [
        Target(
            f"{SCENARIO}: within the slash command's floors", all(ok for _, ok, _ in checks), detail
        )
    ]


def message_lines(results: Sequence[Result]) -> list[str]:
    pair = _pair(results)
    if pair is None:
        return []
    bot, bare = pair
    lines = [f"{SCENARIO} (message events, {CONCURRENCY} in flight), per round (bot | bare app):"]
    for index, (mine, theirs) in enumerate(
        zip(bot.extra["rounds"], bare.extra["rounds"], strict=True), start=1
    ):
        lines.append(
            f"  round {index}: req/s {mine['req_s']:.0f} | {theirs['req_s']:.0f}   "
            f"ack p99 {mine['ack_p99']:.1f} | {theirs['ack_p99']:.1f}   "
            f"answer p50 {mine['answer_p50']:.1f} | {theirs['answer_p50']:.1f}   "
            f"p99 {mine['answer_p99']:.1f} | {theirs['answer_p99']:.1f}"
        )
    r = bot.extra["round_ratios"]
    lines.append(
        f"  ratios per round, min / median / max: throughput {spread(r['req_s'])}; "
        f"ack p99 {spread(r['ack_p99'])}"
    )
    return lines
