"""Scenario 9s, the floor over Socket Mode: the Procfile's `worker:` against a bare Bolt app.

The same rounds and targets as scenario 9 (bench/floor.py), with Slack's Socket Mode in place of
signed HTTP: the bot runs as the Procfile's `worker:` line starts it (`python -m bot.app.cli
socket`), the baseline is bench/baseline_socket_app.py (Bolt's SocketModeHandler, the same
builtin Socket Mode client with the same defaults), both with the bench's settings plus an
app-level token of their own and, as a Socket Mode worker in production, no signing secret.

Each subject dials out to a Socket Mode endpoint of its own: a SocketModeServer (the Slack
playground's, stand_ins/slack_playground/socket_mode.py) in the bench process, on loopback and
an OS-chosen port. The Slack sink answers `apps.connections.open` for each subject's app token
with single-use URLs of that subject's server. The bench then plays Slack: a `slash_commands`
envelope per command, its payload the fields the HTTP path posts as a form (response_url at
the sink), `concurrency` in flight, each slot sending its next envelope as soon as the last was
acked. What is measured is what a person sees:
- ack: envelope handed to the server -> its ack read off the socket (time.monotonic());
- answer: envelope handed to the server -> the card at the sink, or the ack itself when it
  carried the card (Slack shows a slash command's ack payload at once).

The bare app's ack tail holds a cluster at 40-55 ms that is the Socket Mode client's, not the
app's: slack_sdk's builtin client leaves Nagle's algorithm on (it sets TCP_NODELAY only behind
a proxy), so with several acks in flight one can wait for the peer's delayed ACK of the
previous one (up to 40 ms on Linux). Measured as it is, since it runs that client as shipped;
the bot's link sets TCP_NODELAY (bot/app/socket_mode/connection.py).

This sender costs about 0.6 ms of CPU per envelope in the bench process, twice what the bot
spends answering one: at the bot's rates (2,000-3,000 a second) it needs more than one of the
machine's two cores, so the bot's tail at 8 in flight includes waits for a CPU.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qsl

from bench.floor import BASELINE, BOT, Floor, Round
from bench.hosts import Sink
from bench.loadgen import Job, Outcome
from bench.scenarios import DUPLICATE_GRACE_SECONDS
from bench.servers import ROOT, Subject, procfile_command, start_subject, subject_env
from bench.stats import Result
from stand_ins.slack_playground.socket_mode import Delivery, SocketModeServer

LABEL = "9s floor socket"
BASELINE_MODULE = "bench.baseline_socket_app"
#: Fake app-level tokens, one per subject: the sink tells them apart by it.
APP_TOKENS = {
    BOT: "xapp-1-A0BENCH-1-bench-socket-bot",
    BASELINE: "xapp-1-A0BENCH-1-bench-socket-bare",
}
#: apps.connections.open answers per subject: the first connection, and reconnects to spare.
URLS_PER_SUBJECT = 20
CONNECT_TIMEOUT = 30.0
#: Longest wait for one ack (Slack gives up at 3 s; waiting longer shows how late it was).
ACK_TIMEOUT = 15.0


class Endpoint(Protocol):
    """What the sender needs of Slack's Socket Mode side (SocketModeServer.deliver)."""

    def deliver(
        self, envelope_type: str, payload: Mapping[str, Any], *, timeout: float = ...
    ) -> Delivery: ...


def command_payload(job: Job) -> dict[str, str]:
    """The `slash_commands` envelope's payload: the very fields the HTTP path posts as a form
    (stand_ins' slash_command_fields, all strings), response_url included."""
    return dict(parse_qsl(job.body.decode("utf-8"), keep_blank_values=True))


def outcome_of(job: Job, sent: float, acked: float, delivery: Delivery) -> Outcome:
    """A delivery in the HTTP path's terms: status 200 and the ack's payload as the JSON body
    (empty when it carried none); status 0 and why, when no ack came."""
    exchange = delivery.exchange()
    if exchange.status != 200:
        return Outcome(job, sent, acked, 0, exchange.body)
    return Outcome(job, sent, acked, 200, body=exchange.body.encode("utf-8"))


def deliver_jobs(
    endpoint: Endpoint, jobs: Sequence[Job], *, concurrency: int, timeout: float = ACK_TIMEOUT
) -> list[Outcome]:
    """Deliver `jobs` as slash command envelopes with at most `concurrency` awaiting their ack;
    one Outcome per job, in job order."""
    outcomes: list[Outcome | None] = [None] * len(jobs)
    payloads = [command_payload(job) for job in jobs]
    lock = threading.Lock()
    stop = threading.Event()
    next_index = 0

    slots = min(concurrency, len(jobs))
    # Every slot thread starts before the first envelope goes out: a thread start waits for the
    # GIL, so starting them while acks come back held this process's ack readers up (the
    # round's first acks read 100-230 ms late).
    ready = threading.Barrier(slots + 1)

    def slot() -> None:
        nonlocal next_index
        ready.wait()
        while not stop.is_set():
            with lock:
                index = next_index
                next_index += 1
            if index >= len(jobs):
                return
            sent = time.monotonic()
            delivery = endpoint.deliver("slash_commands", payloads[index], timeout=timeout)
            outcomes[index] = outcome_of(jobs[index], sent, time.monotonic(), delivery)

    threads = [
        threading.Thread(target=slot, name=f"socket-slot-{n}", daemon=True) for n in range(slots)
    ]
    try:
        for thread in threads:
            thread.start()
        ready.wait()
        for thread in threads:
            thread.join()
    finally:
        stop.set()  # on Ctrl-C: no slot starts another delivery
    return [outcome for outcome in outcomes if outcome is not None]


class SocketSender:
    """A floor Sender over Socket Mode: one round of jobs to a subject's endpoint, then its
    answers, exactly as Bench.send returns them over HTTP."""

    def __init__(
        self,
        sink: Sink,
        endpoints: Mapping[str, Endpoint],
        *,
        answer_deadline: float = 30.0,
        grace: float = DUPLICATE_GRACE_SECONDS,
    ) -> None:
        self._sink = sink
        self._endpoints = endpoints
        self._answer_deadline = answer_deadline
        self._grace = grace

    def __call__(self, name: str, jobs: Sequence[Job], concurrency: int) -> Round:
        base = self._sink.count()
        outcomes = deliver_jobs(self._endpoints[name], jobs, concurrency=concurrency)
        # A card the ack carried is not sent to the sink.
        expected = sum(
            o.job.expected - (o.carried_card() is not None) for o in outcomes if o.status == 200
        )
        deadline = time.monotonic() + self._answer_deadline
        while self._sink.count() - base < expected and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(self._grace)
        return outcomes, self._sink.answers(base)


def start_socket_subject(
    name: str,
    argv: list[str],
    env: dict[str, str],
    log_dir: Path,
    server: SocketModeServer,
    *,
    cwd: Path = ROOT,
    timeout: float = CONNECT_TIMEOUT,
) -> Subject:
    """Start `argv` in `cwd` and wait until it holds a link to `server` (it serves no port:
    Slack is the server, the app dials out)."""

    def linked(subject: Subject, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not server.wait_connected(timeout=0.2):
            if subject.process.poll() is not None:
                raise RuntimeError(f"{name} exited at start-up:\n{subject.log()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name}: no Socket Mode link in {timeout} s:\n{subject.log()}")

    return start_subject(name, argv, env, log_dir, cwd=cwd, timeout=timeout, ready=linked)


def baseline_socket_command(worker_argv: Sequence[str]) -> list[str]:
    """The baseline under the interpreter the Procfile's `worker:` line uses."""
    if list(worker_argv[1:3]) != ["-m", "bot.app.cli"]:
        raise LookupError(f"the Procfile's worker: line no longer runs bot.app.cli: {worker_argv}")
    return [worker_argv[0], "-m", BASELINE_MODULE]


class SocketFloor(Floor):
    """9s: the Procfile's `worker:` against the bare Bolt Socket Mode app, warm."""

    def _env(self, name: str) -> dict[str, str]:
        bench = self.bench
        extra = {
            **bench.env_extra,
            "SLACK_APP_TOKEN": APP_TOKENS[name],
            # A state file of its own: the run's HTTP bot keeps the shared one.
            "STATE_DB_PATH": str(bench.log_dir / f"state-socket-{name}.sqlite3"),
        }
        extra.pop("SLACK_SIGNING_SECRET", None)  # Socket Mode has no request signatures
        return subject_env(extra, code_root=bench.bot_root if name == BOT else None)

    def run(self) -> list[Result]:
        bench = self.bench
        servers: dict[str, SocketModeServer] = {}
        subjects: dict[str, Subject] = {}
        worker = procfile_command("worker")
        commands = {BOT: worker, BASELINE: baseline_socket_command(worker)}
        try:
            for name in (BOT, BASELINE):
                server = SocketModeServer(APP_TOKENS[name])
                bench.cleanups.append(server.stop)
                servers[name] = server.start()
                urls = [server.open_connection_url() for _ in range(URLS_PER_SUBJECT)]
                bench.sink.add_socket_urls(APP_TOKENS[name], urls)
            for name in (BOT, BASELINE):
                cwd = (bench.bot_root or ROOT) if name == BOT else ROOT
                subject = start_socket_subject(
                    f"{name}-socket",
                    commands[name],
                    self._env(name),
                    bench.log_dir,
                    servers[name],
                    cwd=cwd,
                )
                bench.extra_subjects.append(subject)
                subjects[name] = subject
                bench.say(
                    f"{name}-socket: {' '.join(subject.argv)} linked to ws://127.0.0.1:"
                    f"{servers[name].port} (pid {subject.process.pid})"
                )
            results = self._warm_rounds(LABEL, subjects, SocketSender(bench.sink, servers))
            for name, server in servers.items():
                if server.connections_opened != 1:
                    bench.say(f"{name}-socket reconnected: {server.connections_opened} links")
            return results
        finally:
            for subject in subjects.values():
                subject.stop()
            for server in servers.values():
                with contextlib.suppress(Exception):
                    server.stop()
