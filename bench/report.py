"""The figures as a table, the issue's targets as PASS/FAIL lines, and the JSON document."""

from __future__ import annotations

import os
import platform
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.floor import floor_checks, floor_pairs
from bench.stats import Result

ALLOWED_ANSWER_KINDS_SLOW = {"card", "error"}
THROUGHPUT_TOLERANCE = 0.15
ACK_P99_TOLERANCE = 0.15
WARM_ANSWER_MARGIN_MS = 20.0
COLD_ANSWER_MARGIN_MS = 30.0
MEMORY_BUDGET_MB = 30.0
#: Scale-out (scenario 7): against the bare app at the same worker count.
SCALE_THROUGHPUT_TOLERANCE = 0.05
SCALE_ACK_P99_TOLERANCE = 0.10
REDIS_DOWN_ANSWER_MARGIN_MS = 20.0
CALLBACK_NOTICE_P95_MS = 2000.0
MEMORY_FLOWS_IN_ISSUE = 50_000


def _num(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}f}" if digits else f"{value:.0f}"


def _calls(result: Result) -> str:
    if result.esign_calls is None:
        return "-"
    if result.esign_calls_allowed is None:
        return str(result.esign_calls)
    return f"{result.esign_calls} (≤{result.esign_calls_allowed})"


COLUMNS: tuple[tuple[str, Callable[[Result], str]], ...] = (
    ("scenario", lambda r: r.scenario),
    ("subject", lambda r: r.subject),
    ("reqs", lambda r: str(r.requests)),
    ("req/s", lambda r: _num(r.requests_per_second, 0)),
    ("ack p50", lambda r: _num(r.ack_p50)),
    ("p95", lambda r: _num(r.ack_p95)),
    ("p99", lambda r: _num(r.ack_p99)),
    ("max", lambda r: _num(r.ack_max)),
    (">3s", lambda r: str(r.acks_over_3s)),
    ("answer p50", lambda r: _num(r.answer_p50)),
    ("p99", lambda r: _num(r.answer_p99)),
    ("answered", lambda r: f"{r.answered}/{r.answers_expected}"),
    ("lost", lambda r: str(r.lost)),
    ("dup", lambda r: str(r.duplicated + r.stray)),
    ("err", lambda r: str(r.errors + r.wrong)),
    ("e签宝 calls", _calls),
    ("redis/lookup", lambda r: _num(r.redis_per_lookup, 2)),
    ("RSS peak", lambda r: _num(r.rss_peak_mb)),
    ("cpu/req", lambda r: _num(r.server_cpu_ms_per_request, 2)),
)


def _width(text: str) -> int:
    # CJK characters take two columns in a terminal.
    return sum(2 if ord(char) >= 0x1100 else 1 for char in text)


def table(results: Sequence[Result]) -> str:
    rows = [[header for header, _ in COLUMNS]]
    rows += [[cell(result) for _, cell in COLUMNS] for result in results]
    widths = [max(_width(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = []
    for index, row in enumerate(rows):
        cells = []
        for column, text in enumerate(row):
            pad = " " * (widths[column] - _width(text))
            cells.append(text + pad if column < 2 else pad + text)
        lines.append("  ".join(cells))
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    legend = (
        "times in ms (ack: request sent -> HTTP answer read; answer: request sent -> card "
        "recorded at the Slack sink); RSS in MB (server master + workers, sampled); cpu/req: "
        "server CPU ms per request (utime+stime, master + worker); dup counts duplicated and "
        "stray answers; err counts non-200 acks and answers for the wrong flow; redis/lookup: "
        "Redis round trips per lookup (INFO commandstats, a pipelined GET+PTTL counted once)"
    )
    return "\n".join(lines) + "\n" + legend


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    passed: bool | None  # None: could not be checked (scenario not run)
    detail: str

    def line(self) -> str:
        verdict = {True: "PASS", False: "FAIL", None: "SKIP"}[self.passed]
        return f"{verdict}  {self.name}: {self.detail}"


def _find(results: Sequence[Result], prefix: str, subject: str) -> Result | None:
    for result in results:
        if result.scenario.split(" ")[0] == prefix and result.subject == subject:
            return result
    return None


def _ratio_target(
    name: str,
    bot: Result | None,
    baseline: Result | None,
    attribute: str,
    *,
    higher_is_better: bool,
    tolerance: float,
) -> Target:
    if bot is None or baseline is None:
        return Target(name, None, "scenario not run")
    ours, theirs = getattr(bot, attribute), getattr(baseline, attribute)
    if ours is None or not theirs:
        return Target(name, False, f"no figure (bot {ours}, baseline {theirs})")
    change = ours / theirs - 1
    passed = change >= -tolerance if higher_is_better else change <= tolerance
    return Target(name, passed, f"bot {ours:g} vs baseline {theirs:g} ({change:+.0%})")


def evaluate(results: Sequence[Result], *, cold_latency_ms: float) -> list[Target]:
    targets: list[Target] = []

    def failing(check: Callable[[Result], int]) -> str:
        bad = [f"{r.scenario}/{r.subject}: {check(r)}" for r in results if check(r)]
        return "; ".join(bad) if bad else f"0 in {len(results)} runs"

    lost = sum(r.lost for r in results)
    targets.append(Target("no lost answers in any scenario", lost == 0, failing(lambda r: r.lost)))
    dup = sum(r.duplicated + r.stray for r in results)
    targets.append(
        Target(
            "no duplicated answers in any scenario",
            dup == 0,
            failing(lambda r: r.duplicated + r.stray),
        )
    )
    slow3 = sum(r.acks_over_3s for r in results)
    targets.append(
        Target(
            "zero acks over 3 s (scenario 4 included)",
            slow3 == 0,
            failing(lambda r: r.acks_over_3s),
        )
    )
    errors = sum(r.errors + r.wrong for r in results)
    causes = "; ".join(
        f"{r.scenario}/{r.subject} {r.error_kinds}" for r in results if r.error_kinds
    )
    targets.append(
        Target(
            "every request acked with HTTP 200, every card for the flow asked",
            errors == 0,
            failing(lambda r: r.errors + r.wrong) + (f" ({causes})" if causes else ""),
        )
    )

    for number, label in (("1", "warm"), ("2", "cold")):
        bot, baseline = _find(results, number, "bot"), _find(results, number, "baseline")
        targets.append(
            _ratio_target(
                f"scenario {number} ({label}): throughput within 15% of baseline",
                bot,
                baseline,
                "requests_per_second",
                higher_is_better=True,
                tolerance=THROUGHPUT_TOLERANCE,
            )
        )
        targets.append(
            _ratio_target(
                f"scenario {number} ({label}): ack p99 within 15% of baseline",
                bot,
                baseline,
                "ack_p99",
                higher_is_better=False,
                tolerance=ACK_P99_TOLERANCE,
            )
        )

    bot, baseline = _find(results, "1", "bot"), _find(results, "1", "baseline")
    name = "scenario 1: answer p50 within 20 ms of baseline"
    if bot is None or baseline is None or bot.answer_p50 is None or baseline.answer_p50 is None:
        targets.append(Target(name, None, "scenario not run"))
    else:
        gap = bot.answer_p50 - baseline.answer_p50
        targets.append(
            Target(
                name,
                gap <= WARM_ANSWER_MARGIN_MS,
                f"bot {bot.answer_p50:g} ms vs baseline {baseline.answer_p50:g} ms ({gap:+.1f} ms)",
            )
        )

    paced = _find(results, "2p", "bot")
    name = "scenario 2: answer p50 within 30 ms of e签宝's latency"
    if paced is None or paced.answer_p50 is None:
        targets.append(Target(name, None, "scenario 2p not run"))
    else:
        gap = paced.answer_p50 - cold_latency_ms
        targets.append(
            Target(
                name,
                gap <= COLD_ANSWER_MARGIN_MS,
                f"bot {paced.answer_p50:g} ms at {cold_latency_ms:g} ms latency ({gap:+.1f} ms;"
                " measured in 2p, paced below the bot's e签宝 call rate)",
            )
        )

    for number in ("1", "3", "5"):
        result = _find(results, number, "bot")
        name = f"scenario {number}: one e签宝 call per distinct flow per TTL window"
        if result is None or result.esign_calls is None or result.esign_calls_allowed is None:
            targets.append(Target(name, None, "scenario not run"))
            continue
        passed = result.distinct_flows <= result.esign_calls <= result.esign_calls_allowed
        targets.append(
            Target(
                name,
                passed,
                f"{result.esign_calls} calls for {result.distinct_flows} flows "
                f"(allowed {result.esign_calls_allowed})",
            )
        )

    slow = _find(results, "4", "bot")
    name = "scenario 4: every user gets a card or a clear error"
    if slow is None:
        targets.append(Target(name, None, "scenario not run"))
    else:
        odd = {k: v for k, v in slow.kinds.items() if k not in ALLOWED_ANSWER_KINDS_SLOW}
        passed = slow.lost == 0 and not odd and slow.answered == slow.answers_expected
        targets.append(Target(name, passed, f"answers by kind {slow.kinds}, lost {slow.lost}"))

    targets += _scale_out_targets(results)
    targets += _floor_targets(results)
    targets += _watch_targets(results)

    memory = _find(results, "6", "bot")
    name = "memory: RSS after 50,000 distinct flows at most 30 MB above idle"
    if memory is None or "growth_mb" not in memory.extra:
        targets.append(Target(name, None, "scenario not run"))
    else:
        growth = float(memory.extra["growth_mb"])
        flows = memory.distinct_flows
        reduced = "" if flows >= MEMORY_FLOWS_IN_ISSUE else f" (reduced run: {flows} flows)"
        targets.append(
            Target(
                name,
                growth <= MEMORY_BUDGET_MB and memory.lost == 0,
                f"{memory.extra['idle_rss_mb']} MB idle -> {memory.extra['after_rss_mb']} MB "
                f"after {flows} flows ({growth:+.1f} MB){reduced}",
            )
        )
    return targets


def _scale_out_targets(results: Sequence[Result]) -> list[Target]:
    targets: list[Target] = []
    for number, label in (("7", "warm"), ("7c", "cold")):
        bot, baseline = _find(results, number, "bot+redis"), _find(results, number, "baseline")
        targets.append(
            _ratio_target(
                f"scale-out {label} (2 workers, Redis): throughput ≥ 0.95× the bare app's",
                bot,
                baseline,
                "requests_per_second",
                higher_is_better=True,
                tolerance=SCALE_THROUGHPUT_TOLERANCE,
            )
        )
        targets.append(
            _ratio_target(
                f"scale-out {label} (2 workers, Redis): ack p99 ≤ 1.10× the bare app's",
                bot,
                baseline,
                "ack_p99",
                higher_is_better=False,
                tolerance=SCALE_ACK_P99_TOLERANCE,
            )
        )
    checked = [r for n in ("7", "7c", "7s") if (r := _find(results, n, "bot+redis")) is not None]
    name = "scale-out: one e签宝 call per flow per TTL across workers"
    if not checked:
        targets.append(Target(name, None, "scenario not run"))
    else:
        passed = all(
            r.esign_calls is not None
            and r.esign_calls_allowed is not None
            and r.distinct_flows <= r.esign_calls <= r.esign_calls_allowed
            for r in checked
        )
        detail = "; ".join(
            f"{r.scenario}: {r.esign_calls} calls for {r.distinct_flows} flows "
            f"(allowed {r.esign_calls_allowed})"
            for r in checked
        )
        targets.append(Target(name, passed, detail))
    for number, label in (("7p", "warm"), ("7q", "cold")):
        down, plain = _find(results, number, "bot+redis down"), _find(results, number, "bot")
        name = f"Redis down ({label}, paced): answer p50 within 20 ms of the bot without Redis"
        if down is None or plain is None or down.answer_p50 is None or plain.answer_p50 is None:
            targets.append(Target(name, None, "scenario not run"))
            continue
        gap = down.answer_p50 - plain.answer_p50
        targets.append(
            Target(
                name,
                gap <= REDIS_DOWN_ANSWER_MARGIN_MS,
                f"Redis down {down.answer_p50:g} ms vs no Redis {plain.answer_p50:g} ms "
                f"({gap:+.1f} ms)",
            )
        )
    return targets


def _floor_targets(results: Sequence[Result]) -> list[Target]:
    targets: list[Target] = []
    for scenario, bot, baseline in floor_pairs(results):
        checks = floor_checks(bot, baseline)
        detail = "; ".join(
            f"{'ok' if c.passed else 'MISSED'} {c.label}: {c.detail}" for c in checks
        )
        targets.append(
            Target(f"{scenario}: beats the bare app", all(c.passed for c in checks), detail)
        )
    return targets


def _watch_targets(results: Sequence[Result]) -> list[Target]:
    watch = _find(results, "8", "bot-watch")
    names = (
        "watch: callback -> notice p95 ≤ 2 s",
        "watch: zero duplicate or lost notices",
        "watch: watches' e签宝 calls within their share (POLL_SHARE of ESIGN_MAX_QPS)",
        "watch: total e签宝 calls never over ESIGN_MAX_QPS in any 1 s",
    )
    if watch is None or "watches" not in watch.extra:
        return [Target(name, None, "scenario not run") for name in names]
    x = watch.extra
    p95 = x["callback_p95_ms"]
    share = float(x["watch_share_per_minute"])
    return [
        Target(
            names[0],
            p95 is not None and p95 <= CALLBACK_NOTICE_P95_MS,
            f"p95 {p95} ms, p50 {x['callback_p50_ms']} ms over {x['callback_notices']} callbacks",
        ),
        Target(
            names[1],
            watch.lost == 0 and watch.duplicated == 0 and watch.stray == 0,
            f"{watch.answered}/{watch.answers_expected} moved flows told; not told within "
            f"the wait {watch.lost} (by polling {len(x['polling_lost'])}, within "
            f"{x['poll_wait_s']} s), "
            f"duplicated {watch.duplicated}, for unmoved flows {watch.stray}",
        ),
        Target(
            names[2],
            float(x["watch_calls_per_minute"]) <= share,
            f"{x['watch_calls_per_minute']}/min while polling (share {share:g}/min; "
            f"{x['watch_calls_per_minute_with_callbacks']}/min with the callbacks' looks)",
        ),
        Target(
            names[3],
            int(x["total_max_calls_1s"]) <= float(x["max_qps"]),
            f"busiest 1 s window {x['total_max_calls_1s']} calls (watches alone "
            f"{x['watch_max_calls_1s']}), ESIGN_MAX_QPS {x['max_qps']:g}",
        ),
    ]


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.partition(":")[2].strip()
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def as_json(results: Sequence[Result], targets: Sequence[Target]) -> dict[str, Any]:
    return {
        "results": [asdict(result) for result in results],
        "targets": [asdict(target) for target in targets],
    }
