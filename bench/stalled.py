"""Scenario `stalled`: commands while uploads stall mid-body on the same web process.

For 5, 50 and 200 connections that each send a request's headers and part of its body and then
go quiet (half to /slack/events, half to /esign/callback), the bot gets warm slash commands at
8 in flight. Each command must be acked in under a second (Slack's limit is 3 s), every card
must land, and every stalled client must get its 408 once the body deadline passes. The bare
app is not run here: under WSGI, 32 stalled uploads hold its 32 request threads for as long as
the clients like (the figures before the fix are in bench/RESULTS.md).
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator, Sequence

from bench.scenarios import Bench
from bench.servers import Subject
from bench.stats import Result, summarize
from bot.app.web.asgi import BODY_SECONDS

STALLED_COUNTS = (5, 50, 200)
CONCURRENCY = 8
ACK_LIMIT_SECONDS = 1.0
_STALLED = (
    "POST {path} HTTP/1.1\r\nHost: bot\r\nContent-Type: application/x-www-form-urlencoded\r\n"
    "Content-Length: 2000\r\n\r\ntext=8037"
)


@contextlib.contextmanager
def stalled_uploads(subject: Subject, count: int) -> Iterator[list[socket.socket]]:
    host, port = subject.base_url.removeprefix("http://").split(":")
    opened: list[socket.socket] = []
    try:
        for n in range(count):
            path = "/slack/events" if n % 2 == 0 else "/esign/callback"
            conn = socket.create_connection((host, int(port)), timeout=5)
            conn.sendall(_STALLED.format(path=path).encode())
            opened.append(conn)
        yield opened
    finally:
        for conn in opened:
            conn.close()


def refused_in_time(opened: Sequence[socket.socket], wait: float) -> int:
    """How many stalled clients got a 408 within `wait` seconds of now."""
    deadline = time.monotonic() + wait
    told = 0
    for conn in opened:
        conn.settimeout(max(0.05, deadline - time.monotonic()))
        with contextlib.suppress(OSError):
            told += conn.recv(64).startswith(b"HTTP/1.1 408")
    return told


class StalledClients:
    def __init__(self, bench: Bench) -> None:
        self.bench = bench

    def run(self) -> list[Result]:
        bench = self.bench
        subject = bench.subjects["bot"]
        flows = bench.new_flows(1)
        bench.send(subject, bench.commands("stalled-warmup", [flows]), concurrency=1)
        per_round = max(100, bench.sizes.warm_requests // 4)
        results = []
        for count in STALLED_COUNTS:
            with stalled_uploads(subject, count) as opened:
                time.sleep(0.3)
                jobs = bench.commands(f"stalled-{count}", [flows] * per_round)
                outcomes, answers = bench.send(subject, jobs, concurrency=CONCURRENCY)
                told = refused_in_time(opened, BODY_SECONDS + 3)
            result = summarize(Result(f"stalled {count}", "bot"), outcomes, answers)
            slow = [o for o in outcomes if o.ack_seconds >= ACK_LIMIT_SECONDS]
            result.extra.update({"stalled": count, "acks_over_1s": len(slow), "told_408": told})
            bench.say(
                f"{count} stalled uploads: {len(outcomes)} commands, ack p99 "
                f"{result.ack_p99} ms, max {result.ack_max} ms, over 1 s {len(slow)}, "
                f"408 told {told}/{count}"
            )
            results.append(result)
        return results


def stalled_lines(results: Sequence[Result]) -> list[str]:
    lines = []
    for result in results:
        x = result.extra
        if "stalled" not in x:
            continue
        ok = (
            x["acks_over_1s"] == 0
            and result.errors == 0
            and result.lost == 0
            and x["told_408"] == x["stalled"]
        )
        lines.append(
            f"{'PASS' if ok else 'FAIL'} {x['stalled']} stalled uploads: {result.requests} "
            f"commands acked in under {ACK_LIMIT_SECONDS:g} s (max {result.ack_max} ms, p99 "
            f"{result.ack_p99} ms), cards lost {result.lost}, 408 to {x['told_408']} of "
            f"{x['stalled']} stalled clients"
        )
    return lines
