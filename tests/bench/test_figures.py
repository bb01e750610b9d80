"""The benchmark's own arithmetic: busiest window, notices per flow, Redis command counts, what
the Socket Mode sender records, and the soak's schedule, growth and notice accounting."""

from __future__ import annotations

import json
import threading
from typing import Any

import httpx
from websockets.sync.client import connect

from bench.loadgen import CHANNEL, USER, Requests
from bench.redis_host import counts_between
from bench.scale_out_engines import against_single_redis
from bench.soak import warmup_seconds
from bench.soak_figures import (
    FAULT_KINDS,
    WINDOW_SECONDS,
    count_notices,
    fault_schedule,
    growth,
    latency_series,
    window_at,
)
from bench.socket_floor import SocketSender, command_payload
from bench.stats import Result, summarize
from bench.watch import max_in_window, per_minute, poll_intervals, tally_notices
from stand_ins.slack_playground.slack_requests import slash_command_fields
from stand_ins.slack_playground.socket_mode import SocketModeServer
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


def test_each_engine_is_given_as_ratios_of_the_single_redis_in_the_same_run() -> None:
    single = Result("7e warm 2w", "bot+redis", requests_per_second=1000.0, ack_p99=10.0)
    cluster = Result("7e warm 2w", "bot+cluster", requests_per_second=900.0, ack_p99=12.5)
    against_single_redis([single, cluster])
    assert cluster.extra["vs_single_redis"]["req_per_s"] == 0.9
    assert cluster.extra["vs_single_redis"]["ack_p99"] == 1.25
    assert cluster.extra["vs_single_redis"]["answer_p99"] is None  # not measured
    assert "req_per_s ×0.90, ack_p99 ×1.25" in cluster.notes[-1]
    assert "vs_single_redis" not in single.extra


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


def test_the_socket_sender_records_what_a_person_sees() -> None:
    """Over Socket Mode as over HTTP: a card the ack carried lands with the ack, one posted to
    the response_url lands at the sink, an envelope nobody acks is an error."""

    def card(flow_id: str) -> dict[str, Any]:
        header = {"type": "plain_text", "text": f"Flow {flow_id} · Done"}
        return {"blocks": [{"type": "header", "text": header}]}

    sink = SlackSink()
    requests = Requests(sink.start())
    seen: list[dict[str, Any]] = []
    jobs = [requests.command("k-carried", ["111"]), requests.command("k-posted", ["222"])]

    def app(url: str) -> None:
        """Acks 111 with its card; acks 222 empty, then answers it through its response_url."""
        with connect(url) as link:
            assert json.loads(link.recv())["type"] == "hello"
            for _ in jobs:
                envelope = json.loads(link.recv())
                seen.append(envelope)
                fields = envelope["payload"]
                ack: dict[str, Any] = {"envelope_id": envelope["envelope_id"]}
                if fields["text"] == "111":
                    ack["payload"] = card("111")
                link.send(json.dumps(ack))
                if fields["text"] == "222":
                    httpx.post(fields["response_url"], json=card("222"))

    try:
        with SocketModeServer("xapp-test") as server:
            thread = threading.Thread(target=app, args=(server.open_connection_url(),))
            thread.start()
            assert server.wait_connected(5)
            send = SocketSender(sink, {"bot": server}, grace=0.05)
            outcomes, answers = send("bot", jobs, 2)
            thread.join(5)
        with SocketModeServer("xapp-nobody") as nobody:  # no app connected
            failed, _ = SocketSender(sink, {"bot": nobody}, grace=0)("bot", jobs[:1], 1)
    finally:
        sink.stop()

    assert sorted(e["type"] for e in seen) == ["slash_commands"] * 2
    # The payload is the HTTP form's fields: the same command, text and response_url.
    for envelope in seen:
        job = next(j for j in jobs if j.flows == (envelope["payload"]["text"],))
        assert envelope["payload"] == command_payload(job)
    fields = command_payload(jobs[0])
    assert fields["command"] == "/esign-flow" and fields["text"] == "111"
    assert fields["response_url"] == requests.response_url("k-carried")
    assert (
        fields.keys()
        == slash_command_fields(
            command="/c",
            text="",
            team_id="T",
            team_domain="t",
            channel=CHANNEL,
            user=USER,
            response_url="",
        ).keys()
    )
    carried, posted = outcomes  # in job order
    assert carried.status == posted.status == 200
    shown = carried.carried_card()
    assert shown is not None and shown.flow_id == "111" and shown.at == carried.acked
    assert posted.body == b"" and posted.carried_card() is None
    assert [(a.key, a.flow_id) for a in answers] == [("k-posted", "222")]
    assert answers[0].at > posted.sent
    result = summarize(Result("9s", "bot"), outcomes, answers)
    assert (result.answered, result.lost, result.duplicated, result.stray) == (2, 0, 0, 0)
    assert result.errors == result.wrong == 0
    [refused] = failed
    assert refused.status == 0 and refused.error == "Socket Mode: not_connected"


def test_a_floor_round_runs_with_the_bench_processs_collector_held() -> None:
    import gc

    from bench.floor import collector_held

    class Cycle:
        def __init__(self) -> None:
            self.me = self

    Cycle()  # garbage only the cyclic collector frees
    with collector_held():
        assert not gc.isenabled()
        assert not any(isinstance(o, Cycle) for o in gc.get_objects())
    assert gc.isenabled()


# --- the soak -------------------------------------------------------------------------------


def test_a_short_soak_still_gets_every_fault_once() -> None:
    windows = fault_schedule(180, warmup_seconds(180), 45)
    assert [w.kind for w in windows] == list(FAULT_KINDS)
    assert windows[0].start == 60
    assert all(w.end <= 180 - 45 for w in windows)


def test_a_long_soak_takes_turns_a_minute_apart() -> None:
    windows = fault_schedule(1200, warmup_seconds(1200), 45)
    assert warmup_seconds(1200) == 180
    assert len(windows) == 16
    assert [w.kind for w in windows[:5]] == [*FAULT_KINDS, FAULT_KINDS[0]]
    assert all(w.end - w.start == WINDOW_SECONDS for w in windows)
    assert windows[1].start - windows[0].start == 60
    assert window_at(windows, 185) == FAULT_KINDS[0]
    assert window_at(windows, 205) is None


def test_no_room_for_faults() -> None:
    assert fault_schedule(90, 60, 45) == []


def test_growth_counts_from_the_first_sample_after_warm_up() -> None:
    points = [(0.0, 50.0), (30.0, 100.0), (60.0, 104.0), (90.0, 112.0), (120.0, 108.0)]
    found = growth(points, warmup=30)
    assert found is not None
    assert round(found.growth, 3) == 0.08
    assert round(found.peak_growth, 3) == 0.12
    assert found.flat
    assert growth(points, warmup=100) is None  # one sample after warm-up is no trend


def test_latency_per_sample_by_send_time() -> None:
    series = latency_series([(1, 0.01), (2, 0.03), (31, 0.5)], [(2, 1.0)], every=30)
    assert [(p.at, p.ack_p50, p.ack_p99, p.answer_p50) for p in series] == [
        (30, 0.01, 0.03, 1.0),
        (60, 0.5, 0.5, None),
    ]


def test_notices_told_once_lost_doubled_and_stray() -> None:
    moved = ["A", "B", "C"]
    notices = ["A", "C", "C", "D", None]
    tally = count_notices(moved, notices, watched=["A", "B", "C", "D", "E"])
    assert tally.expected == 3
    assert tally.told_once == 1
    assert tally.lost == ["B"]
    assert tally.doubled == ["C"]
    assert tally.extra == 1
    assert tally.stray == 2  # D never moved; one notice names no flow
