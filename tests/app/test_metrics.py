"""The metric families, their labels, the token, and the hooks the layers below are handed."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.app.metrics import (
    CountedPacer,
    Metrics,
    callback_verdict,
    forget_dead_workers,
    lookup_outcome,
    slack_door,
)
from bot.app.web.server import MULTIPROCESS_ENV, fresh_metrics_dir
from bot.delivery.flow_cards import LookupOutcome
from bot.esign.client import EsignClient, RetryPolicy
from bot.esign.errors import (
    CircuitOpen,
    EsignBusinessError,
    EsignUnavailable,
    FlowNotFound,
    RateLimited,
    RateLimitSource,
    UnavailableReason,
)
from bot.esign.signing import SignatureAuth
from bot.flows.snapshot import FlowSnapshot
from bot.slack.replies import SlackReplies
from bot.slack.web_client import CountedWebClient
from tests.esign.test_client import FLOW, OUTLINE, SECRET
from tests.slack_api_stub import SlackApiStub

FAMILIES = {
    "esign_flow_lookups": "counter",
    "esign_flow_esign_request_seconds": "histogram",
    "esign_flow_slack_api_calls": "counter",
    "esign_flow_ack_seconds": "histogram",
    "esign_flow_notices": "counter",
    "esign_flow_callbacks": "counter",
    "esign_flow_esign_budget_waits": "counter",
    "esign_flow_cache_entries": "gauge",
    "esign_flow_esign_breaker_open": "gauge",
}


def families(metrics: Metrics) -> dict[str, Any]:
    text, content_type = metrics.exposition()
    assert content_type.startswith("text/plain")
    return {f.name: f for f in text_string_to_metric_families(text.decode())}


def value(metrics: Metrics, sample_name: str, **labels: str) -> float:
    for family in families(metrics).values():
        for sample in family.samples:
            if sample.name == sample_name and sample.labels == labels:
                return float(sample.value)
    return 0.0


def snapshot(from_cache: bool) -> FlowSnapshot:
    from bot.esign.models import FlowOutline

    return FlowSnapshot(
        outline=FlowOutline.model_validate(OUTLINE),
        fetched_at=datetime.now(UTC),
        from_cache=from_cache,
        simulated=False,
    )


def test_every_family_is_exposed_under_its_name() -> None:
    shown = families(Metrics())
    for name, kind in FAMILIES.items():
        assert shown[name].type == kind, name


@pytest.mark.parametrize(
    ("outcome", "labels"),
    [
        (LookupOutcome(FLOW, snapshot=snapshot(True)), ("ok", "cache")),
        (LookupOutcome(FLOW, snapshot=snapshot(False)), ("ok", "esign")),
        (
            LookupOutcome(FLOW, error=FlowNotFound(FLOW, code=30500001, message="")),
            ("not_found", "esign"),
        ),
        (LookupOutcome(FLOW, error=CircuitOpen(10)), ("refused", "esign")),
        (LookupOutcome(FLOW, error=RateLimited(RateLimitSource.ESIGN)), ("rate_limited", "esign")),
        (
            LookupOutcome(FLOW, error=EsignUnavailable(UnavailableReason.TIMEOUT)),
            ("unavailable", "esign"),
        ),
        (
            LookupOutcome(FLOW, error=EsignBusinessError(code=1, message="x")),
            ("esign_error", "esign"),
        ),
        (LookupOutcome(FLOW), ("internal_error", "esign")),
    ],
)
def test_lookup_outcomes_are_a_few_words_never_the_flow(
    outcome: LookupOutcome, labels: tuple[str, str]
) -> None:
    assert lookup_outcome(outcome) == labels
    metrics = Metrics()
    metrics.lookups(lambda: 3)(outcome)
    assert value(metrics, "esign_flow_lookups_total", outcome=labels[0], source=labels[1]) == 1
    assert value(metrics, "esign_flow_cache_entries") == 3
    assert FLOW not in metrics.exposition()[0].decode()


def test_callback_verdicts_and_doors_are_bounded() -> None:
    assert callback_verdict(200, "ok") == "accepted"
    assert callback_verdict(401, "bad signature") == "forged"
    assert callback_verdict(401, "missing timestamp") == "forged"
    assert callback_verdict(401, "stale timestamp") == "stale"
    assert callback_verdict(403, "unknown app id") == "foreign_app"
    assert callback_verdict(400, "body is not JSON") == "malformed"
    assert slack_door({"command": "/flow", "user_id": "U1"}) == "command"
    assert slack_door({"type": "block_actions"}) == "block_actions"
    assert slack_door({"type": "U0ATTACKER-chosen"}) == "other"
    assert slack_door("not a payload") == "other"


def test_the_token_wants_a_bearer_header() -> None:
    assert Metrics().allowed(None) == 200
    guarded = Metrics(token="s3cret")
    assert guarded.allowed(None) == 401
    assert guarded.allowed("Basic s3cret") == 401
    assert guarded.allowed("Bearer ") == 401
    assert guarded.allowed("Bearer wrong") == 403
    assert guarded.allowed("Bearer s3cret") == 200
    assert guarded.allowed("bearer s3cret") == 200


def test_each_esign_request_is_observed_once_retries_included() -> None:
    answers = iter([httpx.Response(503), httpx.Response(200, json={"code": 0, "data": OUTLINE})])
    metrics = Metrics()
    client = EsignClient(
        "https://esign.test",
        SignatureAuth("7438000000000001", SECRET),
        transport=httpx.MockTransport(lambda _request: next(answers)),
        retry=RetryPolicy(max_retries=2),
        sleep=lambda _s: None,
        on_request=metrics.esign_requests(lambda: False),
    )
    client.get_outline(FLOW)
    assert value(metrics, "esign_flow_esign_request_seconds_count", outcome="unavailable") == 1
    assert value(metrics, "esign_flow_esign_request_seconds_count", outcome="ok") == 1
    assert value(metrics, "esign_flow_esign_breaker_open") == 0


def test_budget_waits_count_only_calls_that_waited() -> None:
    waits: list[None] = []

    class Pacer:
        def __init__(self, seconds: float) -> None:
            self.seconds = seconds

        def acquire(self, max_wait: float) -> None:
            if self.seconds:
                import time

                time.sleep(self.seconds)

    CountedPacer(Pacer(0), lambda: waits.append(None)).acquire(1)
    assert waits == []
    CountedPacer(Pacer(0.01), lambda: waits.append(None)).acquire(1)
    assert waits == [None]


def test_slack_calls_count_by_method_and_outcome() -> None:
    metrics = Metrics()
    with SlackApiStub() as slack_api:
        client = CountedWebClient(
            on_call=metrics.slack_call, token="xoxb-test", base_url=slack_api, retry_handlers=[]
        )
        replies = SlackReplies(
            client, allow_response_url=lambda _: False, on_call=metrics.slack_call
        )
        replies.post("C1", {"text": "a"})
        # The copy for watch notices counts the same way.
        replies.without_retries(1).update("C2", "1.2", {"text": "a"})
        replies.views_publish("U1", {"type": "home", "blocks": []})
        replies.respond("https://evil.example/", {"text": "a"})  # refused before any call
    calls = "esign_flow_slack_api_calls_total"
    assert value(metrics, calls, method="chat.postMessage", outcome="ok") == 1
    assert value(metrics, calls, method="chat.update", outcome="rate_limited") == 1
    assert value(metrics, calls, method="views.publish", outcome="error") == 1
    assert value(metrics, calls, method="response_url") == 0
    # Each call once: SlackReplies does not count them again.
    samples = families(metrics)["esign_flow_slack_api_calls"].samples
    assert sum(s.value for s in samples if s.name == calls) == 3
    assert "C1" not in metrics.exposition()[0].decode()


def test_live_facts_are_read_at_each_scrape_and_a_failing_one_is_left_out() -> None:
    metrics = Metrics()
    count = iter([2.0, 5.0])
    metrics.read_live(lambda: [("esign_flow_watches_active", "Watches.", next(count))])

    def down() -> list[tuple[str, str, float | None]]:
        raise OSError("redis down")

    metrics.read_live(down)
    assert value(metrics, "esign_flow_watches_active") == 2
    assert value(metrics, "esign_flow_watches_active") == 5


def test_the_multiprocess_dir_is_fresh_and_dead_workers_lose_their_live_gauges(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = tmp_path / "m"
    directory.mkdir()
    (directory / "counter_1.db").write_bytes(b"old run")
    monkeypatch.setenv(MULTIPROCESS_ENV, str(directory))
    assert fresh_metrics_dir(3000) == str(directory)
    assert list(directory.iterdir()) == []

    dead = 4_194_303  # above any pid a test machine hands out
    with pytest.raises(ProcessLookupError):
        os.kill(dead, 0)
    for name in (
        f"counter_{dead}.db",
        f"gauge_livesum_{dead}.db",
        f"gauge_livesum_{os.getpid()}.db",
    ):
        (directory / name).write_bytes(b"")
    forget_dead_workers(str(directory))
    assert sorted(p.name for p in directory.iterdir()) == [
        f"counter_{dead}.db",  # a total never goes backwards
        f"gauge_livesum_{os.getpid()}.db",
    ]
