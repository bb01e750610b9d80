"""The benchmark: the bot, exactly as the Procfile starts it, against a bare Bolt app.

    .venv/bin/python bench/run.py [--quick] [--json bench/results.json]

Starts the e签宝 simulator and a Slack sink (each in a process of its own), the bot (the
Procfile's `web:` command) and the baseline (`bench/baseline_app.py` under the same HTTP
server, granian, configured as bench/servers.py says), runs the scenarios, prints a table and a
PASS/FAIL line per target of issue 5, and writes the figures as JSON. Every server binds
127.0.0.1 on an OS-chosen port; every process started here is stopped at the end, also on
Ctrl-C or failure.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make `bench`, `bot`, `stand_ins` importable
    sys.path.insert(0, str(ROOT))

from bench.channel_messages import ChannelMessages, message_lines, message_targets  # noqa: E402
from bench.digest import digest_lines, run_digest  # noqa: E402
from bench.floor import FULL_FLOOR, QUICK_FLOOR, Floor, floor_lines  # noqa: E402
from bench.hosts import SIGNING_SECRET, StandIns  # noqa: E402
from bench.loadgen import Signer  # noqa: E402
from bench.report import as_json, evaluate, machine, table  # noqa: E402
from bench.scale_out import ScaleOut  # noqa: E402
from bench.scale_out_engines import ScaleOutEngines  # noqa: E402
from bench.scenarios import COLD_LATENCY, FULL, QUICK, Bench  # noqa: E402
from bench.servers import (  # noqa: E402
    GC_PROBE_ENV,
    Subject,
    baseline_command,
    procfile_command,
    start_subject,
    subject_env,
)
from bench.soak import DEFAULT_MINUTES, DEFAULT_PNG, Soak, soak_lines  # noqa: E402
from bench.socket_floor import SocketFloor  # noqa: E402
from bench.stalled import StalledClients, stalled_lines  # noqa: E402
from bench.stats import Result  # noqa: E402
from bench.watch import WatchScenario, watch_lines  # noqa: E402

SCENARIOS = (
    "warm",
    "warm-paced",
    "cold",
    "paced",
    "stampede",
    "slow",
    "recheck",
    "memory",
    "scale-out",
    "watch",
    "floor",
    "floor-2w",
    "floor-socket",
    "stalled",
    "digest",
    "messages",
)
#: Scenarios that run only when named in --only (too long for the full run).
ON_REQUEST = ("soak", "scale-out-engines")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bench/run.py", description="Benchmark the bot against a bare Bolt app."
    )
    parser.add_argument("--quick", action="store_true", help="smaller runs (about a minute)")
    parser.add_argument(
        "--json", type=Path, default=ROOT / "bench" / "results.json", help="where to write JSON"
    )
    parser.add_argument(
        "--only",
        default=",".join(SCENARIOS),
        help=f"comma-separated scenarios to run (default: all of {', '.join(SCENARIOS)}; "
        f"on request only: {', '.join(ON_REQUEST)})",
    )
    parser.add_argument(
        "--stand-ins",
        choices=("process", "inline"),
        default="process",
        help="run the simulator and the sink in processes of their own (default), or inside "
        "the bench process",
    )
    parser.add_argument(
        "--client",
        choices=("raw", "httpx"),
        default="raw",
        help="load generator's HTTP client (default: raw asyncio HTTP/1.1; see bench/loadgen.py)",
    )
    parser.add_argument(
        "--gc-probe",
        action="store_true",
        help="log every GC pause of 1 ms or more in the subjects and line them up with the "
        "floor scenarios' slowest acks (bench/gc_probe)",
    )
    parser.add_argument(
        "--simulator-nagle",
        action="store_true",
        help="leave the e签宝 simulator's answers as stand_ins sends them (two sends with "
        "Nagle on: up to 40 ms more per e签宝 call; see bench/hosts.py)",
    )
    parser.add_argument(
        "--bot-root",
        type=Path,
        default=None,
        help="run the bot from this checkout instead (e.g. a copy with a proposed patch); the "
        "baseline, stand-ins and Procfile stay this one's",
    )
    parser.add_argument(
        "--memory-flows", type=int, default=None, help="distinct flows in the memory scenario"
    )
    parser.add_argument(
        "--watch-flows", type=int, default=None, help="watched flows in the watch scenario"
    )
    parser.add_argument(
        "--soak-minutes",
        type=float,
        default=DEFAULT_MINUTES,
        help=f"length of the soak scenario (default {DEFAULT_MINUTES:g})",
    )
    parser.add_argument(
        "--soak-png", type=Path, default=DEFAULT_PNG, help="where the soak writes its plot"
    )
    return parser


def _interrupt_on_sigterm() -> None:
    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(only) - set(SCENARIOS) - set(ON_REQUEST))
    if unknown:
        print(f"unknown scenario(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    sizes = QUICK if args.quick else FULL
    floor_sizes = QUICK_FLOOR if args.quick else FULL_FLOOR
    if args.memory_flows is not None:
        sizes = replace(sizes, memory_flows=args.memory_flows)
    if args.watch_flows is not None:
        sizes = replace(sizes, watch_flows=args.watch_flows)
    _interrupt_on_sigterm()

    def say(message: str) -> None:
        print(f"[{time.monotonic() - started:6.1f}s] {message}", flush=True)

    started = time.monotonic()
    log_dir = Path(tempfile.mkdtemp(prefix="esign-bench-"))
    if args.gc_probe:
        (log_dir / "gc").mkdir()
        os.environ[GC_PROBE_ENV] = str(log_dir / "gc")
    stand_ins: StandIns | None = None
    subjects: dict[str, Subject] = {}
    bench: Bench | None = None
    results: list[Result] = []
    document: dict[str, object] = {}
    try:
        say(f"stand-ins: {args.stand_ins}; server logs in {log_dir}")
        stand_ins = StandIns(
            separate_processes=args.stand_ins == "process",
            simulator_nodelay=not args.simulator_nagle,
        )
        env_extra = stand_ins.subject_settings(log_dir)
        env = subject_env(env_extra)
        procfile = procfile_command()
        bot_root = args.bot_root.resolve() if args.bot_root else None
        bot_env = subject_env(env_extra, code_root=bot_root)
        subjects["bot"] = start_subject("bot", procfile, bot_env, log_dir, cwd=bot_root or ROOT)
        subjects["baseline"] = start_subject("baseline", baseline_command(), env, log_dir)
        for name, subject in subjects.items():
            say(f"{name}: {' '.join(subject.argv)} on {subject.base_url} (pids {subject.pids()})")
        bench = Bench(
            stand_ins,
            subjects,
            sizes=sizes,
            signer=Signer(SIGNING_SECRET),
            subject_env_extra=env_extra,
            log_dir=log_dir,
            client=args.client,
            bot_root=bot_root,
            say=say,
        )
        signatures = bench.check_signatures()
        say(f"signature check (status codes): {signatures}")
        idle = bench.warm_up()
        say(f"idle RSS after one command (MB, master + worker): {idle}")
        runs: dict[str, Callable[[], list[Result]]] = {
            "warm": bench.warm,
            "warm-paced": bench.warm_paced,
            "cold": bench.cold,
            "paced": bench.cold_paced,
            "stampede": bench.stampede,
            "slow": bench.slow,
            "recheck": bench.recheck,
            "memory": bench.memory,
            "scale-out": ScaleOut(bench).run,
            "watch": WatchScenario(bench).run,
            "floor": Floor(bench, floor_sizes).one_worker,
            "floor-2w": Floor(bench, floor_sizes).two_workers,
            "floor-socket": SocketFloor(bench, floor_sizes).run,
            "stalled": StalledClients(bench).run,
            "digest": run_digest,
            "messages": ChannelMessages(bench, floor_sizes).run,
            "soak": Soak(bench, args.soak_minutes, args.soak_png).run,
            "scale-out-engines": ScaleOutEngines(bench).run,
        }
        for name in (*SCENARIOS, *ON_REQUEST):
            if name in only:
                say(f"scenario {name} ...")
                results += runs[name]()
        document = {
            "signature_check": signatures,
            "idle_rss_mb": idle,
            "settings": asdict(bench.settings),
        }
    except KeyboardInterrupt:
        print("\ninterrupted: stopping every process started", file=sys.stderr)
        return 130
    finally:
        to_stop = [*subjects.values(), *(bench.extra_subjects if bench else [])]
        for subject in to_stop:
            subject.stop()
        for cleanup in bench.cleanups if bench else []:
            cleanup()
        if stand_ins is not None:
            stand_ins.close()

    targets = evaluate(results, cold_latency_ms=COLD_LATENCY * 1000) + message_targets(results)
    print()
    print(table(results))
    extra = (
        floor_lines(results)
        + watch_lines(results)
        + stalled_lines(results)
        + soak_lines(results)
        + digest_lines(results)
        + message_lines(results)
    )
    if extra:
        print()
        print("\n".join(extra))
    print()
    for target in targets:
        print(target.line())
    elapsed = time.monotonic() - started
    document = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "mode": "quick" if args.quick else "full",
        "duration_s": round(elapsed, 1),
        "machine": machine(),
        "stand_ins": args.stand_ins,
        "client": args.client,
        "simulator_nodelay": not args.simulator_nagle,
        "bot_root": str(args.bot_root.resolve()) if args.bot_root else str(ROOT),
        "sizes": asdict(sizes),
        "procfile_web": procfile_command(),
        "baseline_command": baseline_command(),
        "server_logs": str(log_dir),
        **document,
        **as_json(results, targets),
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    print(f"\n{elapsed:.0f} s; JSON written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
