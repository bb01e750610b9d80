"""The soak's figures: when the faults come, how RSS and fds grew, latency per sample, the
notices' accounting, the PASS/FAIL lines and the plot. Pure functions, except `plot`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.stats import percentile

#: The faults, in the order they take turns.
FAULT_KINDS = ("slow e签宝", "e签宝 5xx", "Slack 429", "Redis restart")
#: Longest a fault window lasts (a Redis restart is one moment in its window).
WINDOW_SECONDS = 20.0
#: Time between the starts of two fault windows, in a long soak.
FAULT_EVERY_SECONDS = 60.0
#: RSS and open fds may grow this much from the first sample after warm-up to the last.
GROWTH_LIMIT = 0.10
MB = 1024.0


@dataclass(frozen=True, slots=True)
class FaultWindow:
    kind: str
    #: Seconds from the start of the soak.
    start: float
    end: float

    def covers(self, at: float) -> bool:
        return self.start <= at < self.end


def fault_schedule(seconds: float, warmup: float, quiet_tail: float) -> list[FaultWindow]:
    """Fault windows between the warm-up and the quiet tail, the kinds taking turns.

    One every FAULT_EVERY_SECONDS, or closer in a short soak so that each kind comes at least
    once; a window is at most WINDOW_SECONDS and a third of the gap between starts.
    """
    room = seconds - warmup - quiet_tail
    if room <= 0:
        return []
    every = min(FAULT_EVERY_SECONDS, room / len(FAULT_KINDS))
    length = min(WINDOW_SECONDS, every / 3)
    windows = []
    start = warmup
    index = 0
    while start + length <= seconds - quiet_tail:
        kind = FAULT_KINDS[index % len(FAULT_KINDS)]
        windows.append(FaultWindow(kind, round(start, 3), round(start + length, 3)))
        start += every
        index += 1
    return windows


def window_at(windows: Sequence[FaultWindow], at: float) -> str | None:
    """The fault on at `at` seconds into the soak (None: none)."""
    for window in windows:
        if window.covers(at):
            return window.kind
    return None


@dataclass(frozen=True, slots=True)
class Sample:
    """One reading of the bot's processes (master + workers), `at` seconds into the soak."""

    at: float
    rss_kb: int
    fds: int
    pids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Growth:
    """From the first sample at or after warm-up (`start`) to the last (`end`); `peak` the most
    any sample after warm-up reached, as fractions of `start`."""

    start: float
    end: float
    growth: float
    peak_growth: float

    @property
    def flat(self) -> bool:
        return self.growth < GROWTH_LIMIT


def growth(points: Sequence[tuple[float, float]], warmup: float) -> Growth | None:
    """Growth of the values in (seconds, value) `points` after `warmup` seconds; None without
    two points after it."""
    after = [value for at, value in points if at >= warmup]
    if len(after) < 2 or after[0] <= 0:
        return None
    first = after[0]
    return Growth(first, after[-1], after[-1] / first - 1, max(after) / first - 1)


@dataclass(frozen=True, slots=True)
class Latency:
    """Seconds from sending to the ack, and to the answer landing, within one sample's span."""

    at: float
    ack_p50: float | None
    ack_p99: float | None
    answer_p50: float | None
    answer_p99: float | None


def latency_series(
    acks: Iterable[tuple[float, float]], answers: Iterable[tuple[float, float]], every: float
) -> list[Latency]:
    """p50/p99 per `every` seconds of (sent at, seconds) pairs, by the time they were sent."""
    ack_bins: dict[int, list[float]] = {}
    answer_bins: dict[int, list[float]] = {}
    for bins, pairs in ((ack_bins, acks), (answer_bins, answers)):
        for at, seconds in pairs:
            bins.setdefault(int(at // every), []).append(seconds)
    series = []
    for index in sorted(set(ack_bins) | set(answer_bins)):
        a, b = ack_bins.get(index, []), answer_bins.get(index, [])
        series.append(
            Latency(
                (index + 1) * every,
                percentile(a, 0.5),
                percentile(a, 0.99),
                percentile(b, 0.5),
                percentile(b, 0.99),
            )
        )
    return series


@dataclass(frozen=True, slots=True)
class Notices:
    """Watch notices against the flows the soak moved: each must be told exactly once."""

    expected: int
    told_once: int
    lost: list[str]
    #: Flows told more than once, and the extra notices they got.
    doubled: list[str]
    extra: int
    #: Notices for watched flows that never moved.
    stray: int


def count_notices(
    moved: Iterable[str], notice_flows: Iterable[str | None], watched: Iterable[str]
) -> Notices:
    """`notice_flows`: the flow id of each notice that landed (None: not a flow's notice)."""
    told = Counter(notice_flows)
    moved = list(dict.fromkeys(moved))
    lost = [f for f in moved if told[f] == 0]
    doubled = [f for f in moved if told[f] > 1]
    extra = sum(told[f] - 1 for f in doubled)
    moved_set = set(moved)
    stray = sum(told[f] for f in set(watched) - moved_set) + told[None]
    return Notices(len(moved), len(moved) - len(lost) - len(doubled), lost, doubled, extra, stray)


def verdict(passed: bool, what: str, detail: str) -> str:
    return f"{'PASS' if passed else 'FAIL'}  soak: {what} ({detail})"


def plot(
    samples: Sequence[Sample],
    latencies: Sequence[Latency],
    windows: Sequence[FaultWindow],
    warmup: float,
    path: Path,
    title: str,
) -> None:
    """RSS, open fds and latency over the soak, fault windows shaded, as a PNG (Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    colours = dict(zip(FAULT_KINDS, ("#f4c542", "#e4572e", "#7b5ea7", "#2e86ab"), strict=True))
    minutes = [s.at / 60 for s in samples]
    figure, (rss, fds, latency) = plt.subplots(3, 1, figsize=(10, 9), sharex=True)
    rss.plot(minutes, [s.rss_kb / MB for s in samples], marker="o", color="black")
    rss.set_ylabel("RSS, MB (master + workers)")
    fds.plot(minutes, [s.fds for s in samples], marker="o", color="black")
    fds.set_ylabel("open fds")
    lat_minutes = [point.at / 60 for point in latencies]
    for name, values, style in (
        ("ack p50", [p.ack_p50 for p in latencies], "-"),
        ("ack p99", [p.ack_p99 for p in latencies], "--"),
        ("card p50", [p.answer_p50 for p in latencies], "-"),
        ("card p99", [p.answer_p99 for p in latencies], "--"),
    ):
        points = [(m, v * 1000) for m, v in zip(lat_minutes, values, strict=True) if v is not None]
        if points:
            xs, ys = zip(*points, strict=True)
            latency.plot(xs, ys, style, marker=".", label=name)
    latency.set_yscale("log")
    latency.set_ylabel("ms (per 30 s, by send time)")
    latency.set_xlabel("minutes into the soak")
    latency.legend(loc="upper left", fontsize="small")
    for axes in (rss, fds, latency):
        axes.axvline(warmup / 60, color="grey", linestyle=":")
        axes.grid(alpha=0.3)
        for window in windows:
            axes.axvspan(window.start / 60, window.end / 60, color=colours[window.kind], alpha=0.25)
    handles = [Patch(color=colours[k], alpha=0.25, label=_latin(k)) for k in FAULT_KINDS]
    rss.legend(handles=handles, loc="lower right", fontsize="small", ncols=2)
    figure.suptitle(_latin(title), fontsize="medium")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=90)
    plt.close(figure)


def _latin(text: str) -> str:
    """Matplotlib's default font has no CJK glyphs."""
    return text.replace("e签宝", "eSign")
