"""The two subjects as real server processes: the bot from the Procfile, and the bare baseline.

Both run under granian, the Procfile's HTTP server, with the same environment; the bare app
is served as a Bolt app needs: its acks wait in their threads (Bolt's 10 ms poll for the ack),
so it gets the thread count a gunicorn gthread worker had (32), where the bot's listeners never
wait and one thread serves it best (bot/app/web/server.py). PORT=0 lets the OS choose the port,
which is then read from /proc (the listening socket of the master or a worker), so there is no
pick-then-bind race.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
BASELINE_APP = "bench.baseline_app:app"
#: The bare app's request threads: what gunicorn's gthread worker gave it before the bot moved
#: to granian, and about where its throughput stops growing.
BASELINE_THREADS = 32
#: The bot's own settings prefixes: none of the caller's may leak into a subject.
_OWN_PREFIXES = ("ESIGN_", "SLACK_", "CACHE_", "LOOKUP_", "MAX_IDS_", "REDIS_", "WATCH_", "STATE_")
_OWN_NAMES = {"PORT", "BIND_HOST", "LOG_LEVEL", "WEB_CONCURRENCY"}


def procfile_command(process: str = "web", procfile: Path = ROOT / "Procfile") -> list[str]:
    for line in procfile.read_text(encoding="utf-8").splitlines():
        name, sep, command = line.partition(":")
        if sep and name.strip() == process:
            return shlex.split(command.strip())
    raise LookupError(f"no {process}: line in {procfile}")


def baseline_command(workers: int = 1) -> list[str]:
    """The bare app under granian, on an OS-chosen port, with `workers` workers."""
    return [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "wsgi",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--workers",
        str(workers),
        "--blocking-threads",
        str(BASELINE_THREADS),
        "--blocking-threads-idle-timeout",
        "600",
        "--no-access-log",
        BASELINE_APP,
    ]


@dataclass(frozen=True, slots=True)
class Memory:
    """Kilobytes, summed over the server's master process and its workers."""

    rss_kb: int
    hwm_kb: int
    worker_rss_kb: int
    worker_hwm_kb: int


@dataclass
class Subject:
    name: str
    argv: list[str]
    process: subprocess.Popen[bytes]
    log_path: Path
    port: int = 0
    worker_pids: list[int] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def events_url(self) -> str:
        return f"{self.base_url}/slack/events"

    def pids(self) -> list[int]:
        return [self.process.pid, *self.worker_pids]

    def refresh_workers(self) -> None:
        self.worker_pids = children_of(self.process.pid)

    def memory(self) -> Memory:
        statuses = {pid: proc_status_kb(pid) for pid in self.pids()}
        if not all(statuses.values()):  # the server replaced a worker: find the new one
            self.refresh_workers()
            statuses = {pid: proc_status_kb(pid) for pid in self.pids()}
        rss = hwm = worker_rss = worker_hwm = 0
        for pid, status in statuses.items():
            rss += status.get("VmRSS", 0)
            hwm += status.get("VmHWM", 0)
            if pid != self.process.pid:
                worker_rss += status.get("VmRSS", 0)
                worker_hwm += status.get("VmHWM", 0)
        return Memory(rss, hwm, worker_rss, worker_hwm)

    def cpu_seconds(self) -> float:
        return sum(proc_cpu_seconds(pid) for pid in self.pids())

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self, timeout: float = 35.0) -> None:
        """SIGTERM (a graceful stop), then SIGKILL for the whole session if needed."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=timeout)
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        for pid in self.worker_pids:  # workers left behind, should the master have died first
            if _session_of(pid) == self.process.pid:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)


#: Set (to a directory) in the bench's environment, it makes every subject log its GC pauses
#: there (bench/gc_probe/sitecustomize.py).
GC_PROBE_ENV = "BENCH_GC_PROBE_DIR"
GC_PROBE_PATH = ROOT / "bench" / "gc_probe"


def subject_env(extra: dict[str, str], *, code_root: Path | None = None) -> dict[str, str]:
    """The caller's environment without any of the bot's settings, plus `extra`.

    `code_root`: import the bot from this checkout instead (put first on PYTHONPATH, ahead of
    the editable install), e.g. a copy with a proposed patch applied.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(_OWN_PREFIXES) and key not in _OWN_NAMES
    }
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONUNBUFFERED"] = "1"
    env.pop("PYTHONPATH", None)
    paths = [str(code_root)] if code_root is not None else []
    if env.get(GC_PROBE_ENV):
        paths.append(str(GC_PROBE_PATH))
    if paths:
        env["PYTHONPATH"] = os.pathsep.join(paths)
    env.update(extra)
    return env


def start_subject(
    name: str,
    argv: list[str],
    env: dict[str, str],
    log_dir: Path,
    *,
    cwd: Path = ROOT,
    timeout: float = 30.0,
    ready: Callable[[Subject, float], None] | None = None,
) -> Subject:
    """Start `argv` in `cwd` and wait until it is ready: `ready(subject, timeout)` returns,
    by default once it serves HTTP; a subject that fails it is stopped."""
    log_path = log_dir / f"{name}.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C in the terminal is the bench's to handle
        )
    subject = Subject(name, argv, process, log_path)
    try:
        (ready or _wait_until_serving)(subject, timeout)
    except BaseException:
        subject.stop(timeout=5)
        raise
    return subject


def _wait_until_serving(subject: Subject, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if subject.process.poll() is not None:
            raise RuntimeError(f"{subject.name} exited at start-up:\n{subject.log()}")
        if subject.port == 0:
            # One granian worker binds the port itself; several share the master's socket.
            subject.refresh_workers()
            for pid in subject.pids():
                subject.port = subject.port or listening_port(pid) or 0
        if subject.port:
            subject.refresh_workers()
            try:
                # The bot has /healthz; the bare Bolt app answers 404: either means "serving".
                httpx.get(f"{subject.base_url}/healthz", timeout=1.0)
            except httpx.TransportError:
                pass
            else:
                subject.refresh_workers()
                return
        time.sleep(0.1)
    raise RuntimeError(f"{subject.name} did not serve within {timeout} s:\n{subject.log()}")


# --- /proc ------------------------------------------------------------------------------------


def proc_status_kb(pid: int) -> dict[str, int]:
    values: dict[str, int] = {}
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return values
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if len(parts) == 2 and parts[1] == "kB":
            values[key] = int(parts[0])
    return values


def proc_cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def _stat_field(pid: int, index: int) -> int | None:
    """A numeric field of /proc/<pid>/stat, counted from the state field (0) on."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[index])


def _parent_of(pid: int) -> int | None:
    return _stat_field(pid, 1)


def _session_of(pid: int) -> int | None:
    return _stat_field(pid, 3)


def children_of(pid: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and _parent_of(int(entry.name)) == pid:
            children.append(int(entry.name))
    return sorted(children)


def listening_port(pid: int) -> int | None:
    """The TCP port `pid` listens on (IPv4), from its socket fds and /proc/<pid>/net/tcp."""
    inodes: set[str] = set()
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
        table = Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]
    except OSError:
        return None
    for line in table:
        parts = line.split()
        local, state, inode = parts[1], parts[3], parts[9]
        if state == "0A" and inode in inodes:  # 0A: LISTEN
            return int(local.rsplit(":", 1)[1], 16)
    return None
