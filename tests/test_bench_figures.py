"""The benchmark's own arithmetic: busiest window, notices per flow, Redis command counts."""

from __future__ import annotations

import httpx

from bench.redis_host import counts_between
from bench.watch import max_in_window, per_minute, poll_intervals, tally_notices
from stand_ins.slack_sink import Answer, SlackSink, dm_channel


def _dm(flow_id: str | None, at: float) -> Answer:
    return Answer(f"post:{dm_channel('U1')}:None", at, "card", flow_id, False)


def test_busiest_window_counts_calls_less_than_a_second_apart() -> None:
    assert max_in_window([]) == 0
    assert max_in_window([0.0, 0.5, 0.99, 1.0, 1.5]) == 3
    assert max_in_window([0.0, 1.0, 2.0]) == 1
    assert max_in_window([5.0, 0.1, 0.2]) == 2


def test_per_minute() -> None:
    assert per_minute(30, 30.0) == 60.0
    assert per_minute(5, 0.0) == 0.0


def test_notices_are_matched_to_the_flows_that_moved() -> None:
    notices = [_dm("A", 10.5), _dm("A", 11.0), _dm("C", 3.0), _dm(None, 4.0)]
    tally = tally_notices(notices, {"A": 10.0, "B": 10.0}, ["A", "B", "C", "D"])
    assert tally.latencies == [0.5]
    assert tally.lost == ["B"]
    assert tally.duplicated == 1
    assert tally.stray == 2  # C never moved; one notice names no flow


def test_poll_intervals_per_flow() -> None:
    calls = [(0.0, "A"), (1.0, "B"), (3.0, "A"), (7.0, "A"), (2.0, "C")]
    assert poll_intervals(calls, ["A", "B"]) == [3.0, 4.0]


def test_redis_counts_between_two_readings() -> None:
    before = {"get": 3, "set": 1}
    after = {"get": 7, "set": 1, "evalsha": 2}
    assert counts_between(before, after) == {"evalsha": 2, "get": 4}


def test_the_sink_opens_a_dm_and_logs_web_api_calls() -> None:
    sink = SlackSink()
    base = sink.start()
    try:
        opened = httpx.post(f"{base}/api/conversations.open", data={"users": "U0W000001"})
        assert opened.json()["channel"]["id"] == "DU0W000001"
        httpx.post(f"{base}/api/chat.postMessage", data={"channel": "DU0W000001", "text": "hi"})
        assert [method for method, _ in sink.api_calls()] == [
            "conversations.open",
            "chat.postMessage",
        ]
        assert [a.key for a in sink.answers()] == ["post:DU0W000001:None"]
    finally:
        sink.stop()


def test_redis_round_trips_leave_out_what_scripts_and_pipelines_run() -> None:
    from bench.scale_out import RedisTally

    # One cold lookup: read (GET+PTTL pipelined), lock (SET NX), budget (EVALSHA: TIME, GET,
    # SET), result (SET), release (EVALSHA: GET, DEL); plus the poller's ZRANGEBYSCORE.
    tally = RedisTally()
    tally.add({"get": 3, "pttl": 1, "set": 3, "evalsha": 2, "time": 1, "del": 1}, 1)
    tally.add({"zrangebyscore": 5}, 0)
    assert tally.round_trips() == 5
