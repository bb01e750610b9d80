"""Where the idle web process's memory goes (issue 23): RSS of the granian master and of its
worker, for the bot and the bare app, after one command each, as bench/run.py's warm-up sees it.

    .venv/bin/python bench/idle_memory.py [--variant NAME=ENV=VALUE ...] [--before DIR]

Each subject runs alone (started, one command, 1 s of idle, measured, stopped), so one's
start-up does not land in the other's figures. A variant is the bot again with extra
environment (e.g. `arena2=MALLOC_ARENA_MAX=2`), printed as a ratio to the bot in the same run;
`--before DIR` runs the bot from another checkout too and prints this one's ratio to it.
`--inside` instead builds one bot worker in this process and prints the RSS each import and
create_app() add, and what its threads' stacks and malloc arenas hold (`--trace`: tracemalloc).

RSS is the kernel's count (/proc/<pid>/status); smaps_rollup splits it into private (this
process's alone) and shared (file pages and copy-on-write pages another process maps too).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make `bench`, `bot`, `stand_ins` importable
    sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:
    from bench.scenarios import Bench
    from bench.servers import Subject

KB_PER_MB = 1024


@dataclass(frozen=True, slots=True)
class ProcessMemory:
    """One process, in kB."""

    rss: int
    anon: int
    file: int
    private: int
    shared: int
    pss: int
    threads: int

    def row(self) -> str:
        return (
            f"{self.rss / KB_PER_MB:7.1f} {self.anon / KB_PER_MB:7.1f} "
            f"{self.file / KB_PER_MB:7.1f} {self.private / KB_PER_MB:8.1f} "
            f"{self.shared / KB_PER_MB:7.1f} {self.pss / KB_PER_MB:7.1f} {self.threads:8d}"
        )


def _fields(path: Path) -> dict[str, int]:
    values: dict[str, int] = {}
    for line in path.read_text().splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            values[key] = int(parts[0])
    return values


def process_memory(pid: int) -> ProcessMemory:
    status = _fields(Path(f"/proc/{pid}/status"))
    rollup = _fields(Path(f"/proc/{pid}/smaps_rollup"))
    return ProcessMemory(
        rss=status["VmRSS"],
        anon=status.get("RssAnon", 0),
        file=status.get("RssFile", 0),
        private=rollup.get("Private_Clean", 0) + rollup.get("Private_Dirty", 0),
        shared=rollup.get("Shared_Clean", 0) + rollup.get("Shared_Dirty", 0),
        pss=rollup.get("Pss", 0),
        threads=status.get("Threads", 0),
    )


@dataclass(frozen=True, slots=True)
class Measured:
    name: str
    master: ProcessMemory
    workers: list[ProcessMemory]

    @property
    def total_mb(self) -> float:
        """What bench/run.py reports: RSS summed, so a page both processes map counts twice."""
        return (self.master.rss + sum(w.rss for w in self.workers)) / KB_PER_MB

    @property
    def pss_mb(self) -> float:
        """Each page once (shared ones split between the processes): the memory really used."""
        return (self.master.pss + sum(w.pss for w in self.workers)) / KB_PER_MB


HEADER = (
    f"{'subject':<16} {'process':<7} {'RSS':>7} {'anon':>7} {'file':>7} {'private':>8} "
    f"{'shared':>7} {'PSS':>7} {'threads':>8}   (MB)"
)


def measure_idle(bench: Bench, subject: Subject, idle_seconds: float = 1.0) -> Measured:
    """One command (imports, auth.test, connections as a real one makes them), then idle."""
    bench.send(subject, bench.commands("idle", [bench.new_flows(1)]), concurrency=1)
    time.sleep(idle_seconds)
    subject.refresh_workers()
    return Measured(
        subject.name,
        process_memory(subject.process.pid),
        [process_memory(pid) for pid in subject.worker_pids],
    )


def _print(measured: Measured) -> None:
    print(f"{measured.name:<16} {'master':<7} {measured.master.row()}")
    for worker in measured.workers:
        print(f"{measured.name:<16} {'worker':<7} {worker.row()}")
    print(
        f"{measured.name:<16} {'total':<7} {measured.total_mb:7.1f} {'':39} {measured.pss_mb:7.1f}"
    )


def compare(variants: list[tuple[str, dict[str, str]]], before: Path | None) -> None:
    # Imported here: `--inside` must measure a worker's start-up without the bench's modules.
    from bench.hosts import SIGNING_SECRET, StandIns
    from bench.loadgen import Signer
    from bench.scenarios import QUICK, Bench
    from bench.servers import baseline_command, procfile_command, start_subject, subject_env

    log_dir = Path(tempfile.mkdtemp(prefix="esign-idle-memory-"))
    stand_ins = StandIns(separate_processes=True)
    try:
        env_extra = stand_ins.subject_settings(log_dir)
        bench = Bench(
            stand_ins,
            {},
            sizes=QUICK,
            signer=Signer(SIGNING_SECRET),
            subject_env_extra=env_extra,
            log_dir=log_dir,
        )
        runs: list[tuple[str, list[str], dict[str, str], Path]] = [
            ("baseline", baseline_command(), subject_env(env_extra), ROOT),
            ("bot", procfile_command(), subject_env(env_extra), ROOT),
        ]
        if before is not None:
            env = subject_env(env_extra, code_root=before)
            runs.insert(1, ("before", procfile_command(procfile=before / "Procfile"), env, before))
        for name, extra in variants:
            runs.append((name, procfile_command(), subject_env({**env_extra, **extra}), ROOT))
        print(HEADER)
        results: dict[str, Measured] = {}
        for name, argv, env, cwd in runs:
            subject = start_subject(name, argv, env, log_dir, cwd=cwd)
            try:
                results[name] = measure_idle(bench, subject)
            finally:
                subject.stop()
            _print(results[name])
        bot, baseline = results["bot"], results["baseline"]
        print(
            f"\nbot - baseline: RSS {bot.total_mb - baseline.total_mb:+.1f} MB, "
            f"PSS {bot.pss_mb - baseline.pss_mb:+.1f} MB"
        )
        if "before" in results:
            _ratio("bot / before", bot, results["before"])
        for name, _extra in variants:
            _ratio(f"{name} / bot", results[name], bot)
    finally:
        stand_ins.close()


def _ratio(label: str, measured: Measured, reference: Measured) -> None:
    print(
        f"{label}: RSS {measured.total_mb / reference.total_mb:.3f} "
        f"({measured.total_mb - reference.total_mb:+.1f} MB), "
        f"PSS {measured.pss_mb / reference.pss_mb:.3f} "
        f"({measured.pss_mb - reference.pss_mb:+.1f} MB)"
    )


# --- inside one worker ------------------------------------------------------------------------


def _rss_mb() -> float:
    return _fields(Path("/proc/self/status"))["VmRSS"] / KB_PER_MB


#: What a worker imports, the bare app's packages first (granian, Bolt), so each later step is
#: what the bot adds to them. Order matters: a package's figure excludes what came before it.
IMPORT_STEPS = ("granian", "slack_bolt", "pydantic_settings", "redis", "httpx", "bot.app.web.asgi")


def inside(top: int, *, trace: bool) -> None:
    """Build the bot's web app here as a granian worker does, saying what each step costs.

    Needs the bot's settings in the environment (the simulator is used when e签宝 has none).
    `trace`: also the top Python allocations (tracemalloc, whose own tables inflate the RSS
    figures, so those are not to be compared with a run without it).
    """
    import tracemalloc

    if trace:
        tracemalloc.start(1)
    previous = _rss_mb()
    print(f"{'step':<26} {'RSS MB':>7} {'added':>7} {'modules':>8}")
    print(f"{'python':<26} {previous:7.1f} {'':7} {len(sys.modules):8d}")
    for module in IMPORT_STEPS:
        __import__(module)
        now = _rss_mb()
        print(f"{'import ' + module:<26} {now:7.1f} {now - previous:+7.1f} {len(sys.modules):8d}")
        previous = now
    from bot.app.web.asgi import create_app

    before_app = tracemalloc.take_snapshot() if trace else None
    app = create_app()
    time.sleep(0.5)  # the pools' threads settle
    now = _rss_mb()
    print(f"{'create_app()':<26} {now:7.1f} {now - previous:+7.1f} {len(sys.modules):8d}")
    stacks, arenas, count = _thread_memory_kb(os.getpid())
    print(
        f"\n{threading.active_count()} threads: their stacks {stacks / KB_PER_MB:.2f} MB RSS, "
        f"{count} glibc malloc arenas {arenas / KB_PER_MB:.2f} MB RSS"
    )
    if before_app is not None:
        traced, _peak = tracemalloc.get_traced_memory()
        print(f"Python allocations traced since start: {traced / 2**20:.1f} MB")
        print("top Python allocations made by create_app() (MB):")
        for stat in tracemalloc.take_snapshot().compare_to(before_app, "lineno")[:top]:
            frame = stat.traceback[0]
            print(f"  {stat.size_diff / 2**20:6.2f}  {_short(frame.filename)}:{frame.lineno}")
    app.shutdown(1.0)


def _thread_memory_kb(pid: int) -> tuple[int, int, int]:
    """RSS of thread stacks (anonymous 8 MB mappings: glibc's default for a pthread) and of
    glibc's per-thread malloc arenas (a writable mapping followed by its reserve, 64 MB in
    all), from /proc/<pid>/smaps; and how many arenas."""
    mappings: list[tuple[int, str, bool, int]] = []  # size kB, perms, anonymous, rss kB
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        parts = line.split()
        if "-" in parts[0] and not parts[0].endswith(":"):
            low, high = (int(x, 16) for x in parts[0].split("-"))
            mappings.append(((high - low) // 1024, parts[1], len(parts) < 6, 0))
        elif parts[0] == "Rss:":
            size, perms, anonymous, _ = mappings[-1]
            mappings[-1] = (size, perms, anonymous, int(parts[1]))
    stacks = arenas = count = 0
    for index, (size, perms, anonymous, rss) in enumerate(mappings):
        if not anonymous or not perms.startswith("rw"):
            continue
        if size == 8192:
            stacks += rss
        elif index + 1 < len(mappings):
            reserve_size, reserve_perms, reserve_anonymous, _ = mappings[index + 1]
            if (
                reserve_anonymous
                and reserve_perms.startswith("---")
                and size + reserve_size == 65536
            ):
                arenas += rss
                count += 1
    return stacks, arenas, count


def _short(filename: str) -> str:
    for marker in ("site-packages/", "/lib/python3"):
        if marker in filename:
            rest = filename.split(marker, 1)[1]
            return rest if marker == "site-packages/" else "stdlib/" + rest.split("/", 1)[-1]
    return os.path.relpath(filename, ROOT)


def _variant(text: str) -> tuple[str, dict[str, str]]:
    name, _, setting = text.partition("=")
    key, _, value = setting.partition("=")
    if not name or not key:
        raise argparse.ArgumentTypeError(f"expected NAME=ENV=VALUE, got {text!r}")
    return name, {key: value}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/idle_memory.py", description=__doc__)
    parser.add_argument("--variant", type=_variant, action="append", default=[])
    parser.add_argument(
        "--before",
        type=Path,
        default=None,
        help="also run the bot from this checkout, e.g. "
        "`git archive HEAD~1`, and print this one's ratio to it",
    )
    parser.add_argument("--inside", action="store_true", help="one worker, built in-process")
    parser.add_argument("--trace", action="store_true", help="with --inside: tracemalloc too")
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args(argv)
    if args.inside:
        inside(args.top, trace=args.trace)
    else:
        compare(args.variant, args.before.resolve() if args.before else None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
