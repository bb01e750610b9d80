"""docs/metrics.png: the dashboard's main panels, drawn from a bench run instead of Grafana.

    python -m bench.metrics_plot [--seconds 120] [--png docs/metrics.png]

Starts the bot from the Procfile's `web:` line (bench/servers.py) between the e签宝 simulator
and the Slack sink, sends mixed traffic (lookups of warm and new flows, unknown ids, watches,
Rechecks on a posted card, answered by chat.update) for `--seconds`, with a fault window in the
middle (e签宝 slower, then answering 503 to every call; Slack answering 429 to chat.postMessage
and chat.update), scrapes GET /metrics every SCRAPE_SECONDS and plots what the dashboard's
queries would show: lookups/s by outcome, e签宝 p95, ack p95 by door, Slack calls/s by outcome
(rate_limited in red), watches active. A p95 with nothing observed in an interval is left out
(a gap, as Prometheus shows it), never drawn as 0. A tool, not a test.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import httpx
import matplotlib
from prometheus_client.parser import text_string_to_metric_families

from bench.loadgen import Requests, Signer
from bench.servers import ROOT, procfile_command, start_subject, subject_env
from bot.slack.ids import ACTION_RECHECK
from stand_ins.esign_simulator import EsignSimulator, Fault, catalogue_outline
from stand_ins.slack_sink import SlackSink

matplotlib.use("Agg")
import matplotlib.pyplot as plt

SIGNING_SECRET = "metrics-plot-signing-secret-0123"  # noqa: S105 - local stand-ins only
BOT_TOKEN = "xoxb-metrics-plot-not-real"  # noqa: S105 - local stand-ins only
TEMPLATE = "803719636976683872"
SCRAPE_SECONDS = 5.0
TICK_SECONDS = 0.25
#: The fault window, as fractions of the run.
FAULT_FROM, FAULT_TO = 0.4, 0.65
DEFAULT_PNG = ROOT / "docs" / "metrics.png"
#: The command whose card the Rechecks click (kept whole by the sink: `keep-`).
CARD_KEY = "keep-metrics-plot-card"
NAN = float("nan")

Labels = tuple[tuple[str, str], ...]
Scrape = dict[tuple[str, Labels], float]


def scrape(url: str) -> Scrape:
    answer = httpx.get(url, timeout=5)
    answer.raise_for_status()
    samples: Scrape = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def rates(before: Scrape, after: Scrape, name: str, by: str, seconds: float) -> dict[str, float]:
    """sum by (by) (rate(name[...])) between two scrapes."""
    out: dict[str, float] = defaultdict(float)
    for (sample, labels), value in after.items():
        if sample == name:
            out[dict(labels).get(by, "")] += (value - before.get((sample, labels), 0.0)) / seconds
    return dict(out)


def quantile(q: float, buckets: Mapping[float, float]) -> float | None:
    """histogram_quantile over cumulative bucket counts {le: count}, as Prometheus does it."""
    ordered = sorted(buckets.items())
    if not ordered or ordered[-1][1] <= 0:
        return None
    rank = q * ordered[-1][1]
    lower, below = 0.0, 0.0
    for le, count in ordered:
        if count >= rank:
            if le == float("inf"):
                return lower
            return lower + (le - lower) * (rank - below) / max(count - below, 1e-12)
        lower, below = le, count
    return lower


def p95_by(before: Scrape, after: Scrape, name: str, by: str | None) -> dict[str, float]:
    """histogram_quantile(0.95, sum by (le[, by]) (rate(name_bucket[...])))."""
    groups: dict[str, dict[float, float]] = defaultdict(lambda: defaultdict(float))
    for (sample, labels), value in after.items():
        if sample == f"{name}_bucket":
            named = dict(labels)
            key = named.get(by, "") if by else ""
            le = float(named["le"])
            groups[key][le] += value - before.get((sample, labels), 0.0)
    found = {key: quantile(0.95, buckets) for key, buckets in groups.items()}
    return {key: value for key, value in found.items() if value is not None}


class Traffic:
    def __init__(self, bot_url: str, sink: SlackSink, simulator: EsignSimulator) -> None:
        self._url = f"{bot_url}/slack/events"
        self._requests = Requests(sink.base_url())
        self._sink = sink
        self._signer = Signer(SIGNING_SECRET)
        self._simulator = simulator
        self._numbers = itertools.count(1)
        self._template = catalogue_outline(TEMPLATE)
        self.stop = threading.Event()

    def _new_flow(self) -> str:
        flow_id = f"29881{next(self._numbers):014d}"
        if self._template is not None:
            self._simulator.add_flow({**self._template, "flowId": flow_id})
        return flow_id

    def _first_card(self, client: httpx.Client, flow_id: str) -> dict[str, Any]:
        """A card to click Recheck on: in the command's ack, or posted to the sink."""
        job = self._requests.command(CARD_KEY, [flow_id])
        answer = client.post(self._url, content=job.body, headers=self._signer.headers(job.body))
        with contextlib.suppress(ValueError):
            carried = answer.json()
            if isinstance(carried, dict) and carried.get("blocks"):
                return carried
        deadline = time.monotonic() + 30
        while (card := self._sink.kept(CARD_KEY)) is None:
            if time.monotonic() > deadline:
                raise RuntimeError("the bot did not answer its first command")
            time.sleep(0.1)
        return card

    def run(self) -> None:
        warm = [self._new_flow() for _ in range(5)]
        with httpx.Client(timeout=10) as client:
            card = self._first_card(client, warm[0])
            for tick in itertools.count():
                if self.stop.is_set():
                    return
                jobs: list[tuple[list[str], str | None]] = [
                    ([warm[tick % len(warm)]], None),
                    ([self._new_flow()], None),
                ]
                if tick % 4 == 0:
                    jobs.append((["2987300000000000099"], None))  # unknown to e签宝
                if tick % 6 == 0:
                    jobs.append(([self._new_flow()], "watch"))
                sent = [self._requests.command(f"k{tick}-{len(f)}", f, verb=v) for f, v in jobs]
                if tick % 2 == 0:
                    # Recheck on a posted card: answered by chat.update, a Web API call.
                    ts = f"1770000000.{tick:06d}"
                    sent.append(
                        self._requests.recheck(
                            f"r{tick}", card, ACTION_RECHECK, ts=ts, ephemeral=False
                        )
                    )
                for job in sent:
                    # An unanswered request shows in the figures, not here.
                    with contextlib.suppress(httpx.HTTPError):
                        client.post(
                            self._url, content=job.body, headers=self._signer.headers(job.body)
                        )
                self.stop.wait(TICK_SECONDS)


#: A panel: title, unit, and a line of values (one per scrape interval) per label.
Panel = tuple[str, str, dict[str, list[float]]]


def series(values: Iterable[dict[str, float]]) -> dict[str, list[float]]:
    """One line per label; a label absent from an interval (nothing observed) is a gap (NaN)."""
    rows = list(values)
    keys = sorted({key for row in rows for key in row})
    return {key: [row.get(key, NAN) for row in rows] for key in keys}


def panels(times: list[float], scrapes: list[Scrape]) -> list[Panel]:
    """What the dashboard's main queries show between consecutive scrapes."""
    pairs = list(itertools.pairwise(scrapes))
    gaps = [b - a for a, b in itertools.pairwise(times)]
    return [
        (
            "Lookups/s by outcome",
            "lookups/s",
            series(
                rates(a, b, "esign_flow_lookups_total", "outcome", gap)
                for (a, b), gap in zip(pairs, gaps, strict=True)
            ),
        ),
        (
            "e签宝 request p95",
            "seconds",
            series(
                {"p95": v}
                for a, b in pairs
                # No e签宝 call in the interval (the breaker open): a gap, not a zero.
                for v in [p95_by(a, b, "esign_flow_esign_request_seconds", None).get("", NAN)]
            ),
        ),
        (
            "Ack p95 by door",
            "seconds",
            series(p95_by(a, b, "esign_flow_ack_seconds", "door") for a, b in pairs),
        ),
        (
            "Slack API calls/s by outcome",
            "calls/s",
            series(
                rates(a, b, "esign_flow_slack_api_calls_total", "outcome", gap)
                for (a, b), gap in zip(pairs, gaps, strict=True)
            ),
        ),
        (
            "Watches active",
            "watches",
            series({"watches": s.get(("esign_flow_watches_active", ()), 0.0)} for s in scrapes[1:]),
        ),
        (
            "e签宝 breaker open",
            "open (1)",
            series(
                {"open": s.get(("esign_flow_esign_breaker_open", ()), 0.0)} for s in scrapes[1:]
            ),
        ),
    ]


def plot(times: list[float], scrapes: list[Scrape], fault: tuple[float, float], png: Path) -> None:
    at = times[1:]
    plt.rcParams["font.family"] = ["DejaVu Sans", "Noto Sans CJK JP", "sans-serif"]
    figure, axes = plt.subplots(3, 2, figsize=(13, 10), sharex=True)
    for axis, (title, unit, lines) in zip(axes.flat, panels(times, scrapes), strict=True):
        for label, values in lines.items():
            color = "red" if label == "rate_limited" else None
            axis.plot(at, values, label=label or "-", color=color, linewidth=1.5)
        axis.axvspan(*fault, color="grey", alpha=0.15, label="fault window")
        axis.set_title(title)
        axis.set_ylabel(unit)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=7, loc="upper left")
    for axis in axes[-1]:
        axis.set_xlabel(f"seconds (scraped every {SCRAPE_SECONDS:g} s)")
    figure.suptitle("esign-flow-bot GET /metrics during a bench run (e签宝 503s, Slack 429s)")
    figure.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(png, dpi=90)
    plt.close(figure)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--png", type=Path, default=DEFAULT_PNG)
    args = parser.parse_args(argv)
    seconds: float = args.seconds
    with tempfile.TemporaryDirectory(prefix="metrics-plot-") as tmp, EsignSimulator() as sim:
        sink = SlackSink()
        sink.start()
        sim.set_latency(0.03)
        env = subject_env(
            {
                "PORT": "0",
                "BIND_HOST": "127.0.0.1",
                "ESIGN_APP_ID": sim.app_id,
                "ESIGN_APP_SECRET": sim.app_secret,
                "ESIGN_BASE_URL": sim.base_url,
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "SLACK_API_URL": sink.api_url(),
                "CACHE_TTL_SECONDS": "10",
                "STATE_DB_PATH": f"{tmp}/state.sqlite3",
                "LOG_LEVEL": "WARNING",
            }
        )
        bot = start_subject("bot", procfile_command("web"), env, Path(tmp))
        traffic = Traffic(bot.base_url, sink, sim)
        driver = threading.Thread(target=traffic.run, daemon=True)
        started = time.monotonic()
        fault = (seconds * FAULT_FROM, seconds * FAULT_TO)
        times: list[float] = []
        scrapes: list[Scrape] = []
        phase = "before"
        try:
            driver.start()
            while (now := time.monotonic() - started) <= seconds:
                if phase == "before" and now >= fault[0]:
                    sim.set_latency(0.4)
                    sim.inject(Fault.HTTP_503)
                    sink.slack_down("429", fault[1] - fault[0])
                    phase = "fault"
                elif phase == "fault" and now >= fault[1]:
                    sim.clear_faults()
                    sim.set_latency(0.03)
                    phase = "after"
                times.append(now)
                scrapes.append(scrape(f"{bot.base_url}/metrics"))
                time.sleep(max(0.0, SCRAPE_SECONDS - (time.monotonic() - started - now)))
        finally:
            traffic.stop.set()
            driver.join(timeout=15)
            bot.stop()
            sink.stop()
    plot(times, scrapes, fault, args.png)
    print(f"wrote {args.png} ({len(scrapes)} scrapes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
