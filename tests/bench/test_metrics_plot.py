"""docs/metrics.png's arithmetic: a p95 with nothing observed is a gap, never a 0, and Slack's
rate-limited calls get a line of their own."""

from __future__ import annotations

import math

from bench.metrics_plot import Scrape, panels

ESIGN = "esign_flow_esign_request_seconds_bucket"
SLACK = "esign_flow_slack_api_calls_total"


def scrape(esign_calls: float, ok: float, rate_limited: float) -> Scrape:
    """Cumulative counts: e签宝 calls all under 0.05 s; Slack calls by outcome."""
    return {
        (ESIGN, (("le", "0.05"), ("outcome", "ok"))): esign_calls,
        (ESIGN, (("le", "+Inf"), ("outcome", "ok"))): esign_calls,
        (SLACK, (("method", "chat.update"), ("outcome", "ok"))): ok,
        (SLACK, (("method", "chat.update"), ("outcome", "rate_limited"))): rate_limited,
    }


def test_an_interval_without_esign_calls_is_a_gap_and_429s_have_their_line() -> None:
    # e签宝 answers, then nothing is asked (the breaker open), then answers again.
    scrapes = [scrape(0, 0, 0), scrape(10, 5, 0), scrape(10, 5, 5), scrape(20, 10, 5)]
    drawn = {title: lines for title, _, lines in panels([0.0, 5.0, 10.0, 15.0], scrapes)}
    [p95] = drawn["e签宝 request p95"].values()
    assert p95[0] > 0 and math.isnan(p95[1]) and p95[2] > 0
    slack = drawn["Slack API calls/s by outcome"]
    assert slack["rate_limited"] == [0.0, 1.0, 0.0]
    assert slack["ok"] == [1.0, 0.0, 1.0]
