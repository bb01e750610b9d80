"""From what was sent and what landed in the sink to one scenario's figures."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.loadgen import Outcome
from stand_ins.slack_sink import Answer

ACK_DEADLINE_SECONDS = 3.0


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Nearest-rank percentile of `values` (None when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


@dataclass
class Result:
    """One subject in one scenario. Times in ms, memory in MB."""

    scenario: str
    subject: str
    requests: int = 0
    acked_ok: int = 0
    errors: int = 0
    acks_over_3s: int = 0
    ack_p50: float | None = None
    ack_p95: float | None = None
    ack_p99: float | None = None
    ack_max: float | None = None
    answer_p50: float | None = None
    answer_p99: float | None = None
    requests_per_second: float | None = None
    duration_s: float = 0.0
    answers_expected: int = 0
    answered: int = 0
    lost: int = 0
    duplicated: int = 0
    #: Answers for the wrong flow, or landing under no request's key.
    wrong: int = 0
    stray: int = 0
    #: What the answers were: "card", "error" (error card or note), "text" (baseline), ...
    kinds: dict[str, int] = field(default_factory=dict)
    #: Failed acks by cause: "HTTP 500", or the client's exception ("ConnectionResetError").
    error_kinds: dict[str, int] = field(default_factory=dict)
    esign_calls: int | None = None
    #: Most e签宝 calls the TTL allows (one per distinct flow per TTL window), when it applies.
    esign_calls_allowed: int | None = None
    distinct_flows: int = 0
    rss_peak_mb: float | None = None
    rss_end_mb: float | None = None
    hwm_mb: float | None = None
    #: Redis round trips per lookup (a pipelined GET + PTTL counted once), when Redis is used.
    redis_per_lookup: float | None = None
    server_cpu_ms_per_request: float | None = None
    loadgen_cpu_ms_per_request: float | None = None
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


def summarize(result: Result, outcomes: Sequence[Outcome], answers: Sequence[Answer]) -> Result:
    """Fill `result` from the outcomes of one or more rounds and the answers they caused.

    Requests/second is requests over `result.duration_s` when the caller set it (several
    rounds: the summed time of the rounds, each from its first send to its last ack, so the
    waits between rounds don't count), else over the span of `outcomes`.
    """
    by_key: dict[str, list[Answer]] = defaultdict(list)
    for answer in answers:
        by_key[answer.key].append(answer)
    keys = {outcome.job.key for outcome in outcomes}
    result.stray += sum(len(found) for key, found in by_key.items() if key not in keys)

    ack_times = [outcome.ack_seconds for outcome in outcomes]
    answer_times: list[float] = []
    kinds: dict[str, int] = dict(result.kinds)
    for outcome in outcomes:
        result.requests += 1
        if outcome.status != 200:
            result.errors += 1
            what = outcome.error or f"HTTP {outcome.status}"
            result.error_kinds[what] = result.error_kinds.get(what, 0) + 1
            continue
        result.acked_ok += 1
        job = outcome.job
        got = sorted(by_key.get(job.key, []), key=lambda answer: answer.at)
        carried = outcome.carried_card()
        if carried is not None:
            got.insert(0, carried)
        result.answers_expected += job.expected
        result.answered += min(len(got), job.expected)
        result.lost += max(0, job.expected - len(got))
        result.duplicated += max(0, len(got) - job.expected)
        for answer in got[: job.expected]:
            answer_times.append(answer.at - outcome.sent)
        for answer in got:
            kinds[answer.kind] = kinds.get(answer.kind, 0) + 1
            if job.flows and answer.flow_id is not None and answer.flow_id not in job.flows:
                result.wrong += 1
    result.kinds = kinds
    result.acks_over_3s = sum(1 for seconds in ack_times if seconds > ACK_DEADLINE_SECONDS)
    result.ack_p50 = ms(percentile(ack_times, 0.50))
    result.ack_p95 = ms(percentile(ack_times, 0.95))
    result.ack_p99 = ms(percentile(ack_times, 0.99))
    result.ack_max = ms(max(ack_times) if ack_times else None)
    result.answer_p50 = ms(percentile(answer_times, 0.50))
    result.answer_p99 = ms(percentile(answer_times, 0.99))
    if result.duration_s <= 0:
        result.duration_s = span(outcomes)
    if result.duration_s > 0:
        result.requests_per_second = round(result.requests / result.duration_s, 1)
    result.duration_s = round(result.duration_s, 2)
    return result


def span(outcomes: Sequence[Outcome]) -> float:
    """Seconds from the first send to the last ack."""
    if not outcomes:
        return 0.0
    return max(o.acked for o in outcomes) - min(o.sent for o in outcomes)
