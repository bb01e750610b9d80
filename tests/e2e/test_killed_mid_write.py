"""Processes killed mid-write. Two bot processes (from the Procfile's `web:` line) on one SQLite
file; one is killed with SIGKILL while people start watches through both, and so is a third
process stalled in the middle of a write transaction, holding SQLite's write lock for a few
seconds (a paused process, a slow disk): every watch the bot confirmed to Slack before the kill
is still there and is told exactly once, and no process ever meets "database is locked"."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from stand_ins.esign_simulator import EsignSimulator
from stand_ins.slack_playground import Playground
from stand_ins.slack_sink import SlackSink
from tests.e2e.conftest import BotProcess, start_bot
from tests.e2e.signed_commands import command, dm_notices, person
from tests.e2e.test_watch import moving_flow

WATCHES = 80
#: Bot A is killed once this many of its watches are confirmed.
KILL_AFTER = 12
#: How long the stalled writer holds the write lock before it is killed: longer than the
#: 2 s busy timeout the store once had.
STALL_SECONDS = 3.0
STALLED_WRITER = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
db.execute("INSERT INTO meta VALUES ('stalled-writer', 'half a transaction')")
print("holding the write lock", flush=True)
time.sleep(120)
"""


@pytest.fixture
def slack_sink() -> Iterator[SlackSink]:
    sink = SlackSink()
    sink.start()
    yield sink
    sink.stop()


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants (granian's workers), parents first."""
    found = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        children = (task / "children").read_text().split()
        for child in children:
            found += process_tree(int(child))
    return found


def kill_whole(bot: BotProcess) -> None:
    # The master first, so it cannot spawn a worker in place of the one killed next.
    for pid in process_tree(bot.process.pid):
        os.kill(pid, signal.SIGKILL)
    bot.process.wait(timeout=10)


def stall_writes(state: Path) -> subprocess.Popen[bytes]:
    """A process in the middle of a write transaction on `state`, holding the lock."""
    writer = subprocess.Popen(
        [sys.executable, "-c", STALLED_WRITER, str(state)], stdout=subprocess.PIPE
    )
    assert writer.stdout is not None
    assert writer.stdout.readline() == b"holding the write lock\n"
    return writer


def stored_flows(state: Path) -> set[str]:
    with sqlite3.connect(f"file:{state}?mode=ro", uri=True, timeout=15) as db:
        return {row[0] for row in db.execute("SELECT flow_id FROM watches")}


def test_a_process_killed_while_writing_loses_no_confirmed_watch(
    simulator: EsignSimulator,
    playground: Playground,
    slack_sink: SlackSink,
    tmp_path: Path,
) -> None:
    state = tmp_path / "state.sqlite3"
    env = {
        "SLACK_API_URL": slack_sink.api_url(),
        "STATE_DB_PATH": str(state),
        "WATCH_FIRST_POLL_SECONDS": "0.5",
        "WATCH_MAX_PER_CHANNEL": "1000",
        "CACHE_TTL_SECONDS": "1",
    }
    simulator.clear_faults()
    simulator.set_latency(0.0)
    bots = [start_bot(simulator, playground, tmp_path / f"bot-{n}.log", **env) for n in (0, 1)]
    a, b = bots
    try:
        flows: list[tuple[str, Callable[[str, str], None]]] = [
            moving_flow(simulator) for _ in range(WATCHES)
        ]
        keys: dict[str, int] = {}

        def watch(n: int) -> None:
            key, _ = command(bots[n % 2], slack_sink, f"watch {flows[n][0]}", person(n))
            keys[key] = n

        def confirmed() -> set[int]:
            cards = {x.key for x in slack_sink.answers() if x.kind == "card"}
            return {n for key, n in list(keys.items()) if key in cards}

        with ThreadPoolExecutor(12) as pool:
            sent = [pool.submit(watch, n) for n in range(WATCHES)]
            deadline = time.monotonic() + 30
            while len([n for n in confirmed() if n % 2 == 0]) < KILL_AFTER:
                assert time.monotonic() < deadline, a.log()
                time.sleep(0.01)
            stalled = stall_writes(state)
            time.sleep(STALL_SECONDS / 2)
            kill_whole(a)  # while its other watches are being written, or wait to be
            time.sleep(STALL_SECONDS / 2)
            stalled.kill()
            stalled.wait(timeout=10)
            for future in sent:
                future.result()
        time.sleep(3)  # b's answers still on their way
        acked = confirmed()
        assert len([n for n in acked if n % 2 == 1]) == WATCHES // 2, b.log()
        assert KILL_AFTER <= len([n for n in acked if n % 2 == 0]) < WATCHES // 2

        # Every confirmed watch survived the kill; the killed half transaction left nothing.
        assert {flows[n][0] for n in acked} <= stored_flows(state)
        with sqlite3.connect(f"file:{state}?mode=ro", uri=True) as db:
            assert db.execute("SELECT * FROM meta WHERE key='stalled-writer'").fetchall() == []
        # ...and its flow's move is told exactly once, by the process still running.
        for n in acked:
            flows[n][1]("SUCCESS", "SUCCESS")
        # The watches whose poll lease the killed process held wait for it to run out (60 s).
        deadline = time.monotonic() + 60 + 30
        while any(not dm_notices(slack_sink, person(n), flows[n][0]) for n in acked):
            assert time.monotonic() < deadline, b.log()[-5000:]
            time.sleep(0.2)
        time.sleep(3)  # polls after the last notice find nothing more to tell
        for n in range(WATCHES):
            assert len(dm_notices(slack_sink, person(n), flows[n][0])) <= 1, n
        assert stored_flows(state) <= {flows[n][0] for n in range(WATCHES) if n not in acked}
    finally:
        if b.process.poll() is None:
            b.stop()
    for bot in bots:
        assert "database is locked" not in bot.log().lower(), bot.log()
