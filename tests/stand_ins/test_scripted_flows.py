"""The simulator's flows that move on their own, and the callbacks it sends when they end,
checked by the bot's own verifier on a local receiver."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bot.esign.callbacks import verify_callback
from bot.esign.client import EsignClient, RetryPolicy
from bot.esign.signing import SignatureAuth
from stand_ins.esign_simulator import EsignSimulator
from stand_ins.esign_simulator.catalogue import SCRIPTED_FAIL_ID, SCRIPTED_SUCCESS_ID


class Receiver:
    def __init__(self, answers: list[int]) -> None:
        self.answers = answers
        self.received: list[tuple[dict[str, str], str, bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                query = self.path.partition("?")[2]
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver.received.append((headers, query, body))
                status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, query: str = "") -> str:
        return f"http://127.0.0.1:{self.server.server_port}/esign/callback{query}"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver([])
    yield made
    made.server.shutdown()


def _client(sim: EsignSimulator) -> EsignClient:
    return EsignClient(
        sim.base_url,
        SignatureAuth(sim.app_id, sim.app_secret),
        connect_timeout=2,
        read_timeout=2,
        retry=RetryPolicy(max_retries=0, deadline=3),
    )


def test_a_scripted_flow_moves_on_its_own_and_its_end_is_called_back(receiver: Receiver) -> None:
    with EsignSimulator(script_seconds=1.0, callback_url=receiver.url("?team=T0&a=1")) as sim:
        client = _client(sim)
        assert client.get_outline(SCRIPTED_SUCCESS_ID).flow_status == "INIT"
        time.sleep(0.4)
        running = client.get_outline(SCRIPTED_SUCCESS_ID)
        assert running.flow_status == "ING" and running.sub_flows[0].status == "ING"
        deadline = time.monotonic() + 5
        while not receiver.received and time.monotonic() < deadline:
            time.sleep(0.05)
        assert client.get_outline(SCRIPTED_SUCCESS_ID).flow_status == "SUCCESS"
        [(headers, query, body)] = receiver.received
        callback = verify_callback(
            app_id=sim.app_id,
            secret=sim.app_secret,
            headers=headers,
            query=query,
            body=body,
            now=time.time(),
        )
        assert callback.flow_ids == (SCRIPTED_SUCCESS_ID,) and callback.success is True
        client.close()


def test_a_failing_script_is_not_called_back_unless_asked(receiver: Receiver) -> None:
    with EsignSimulator(script_seconds=0.3, callback_url=receiver.url()) as sim:
        client = _client(sim)
        client.get_outline(SCRIPTED_FAIL_ID)
        time.sleep(0.8)
        ended = client.get_outline(SCRIPTED_FAIL_ID)
        assert ended.flow_status == "FAIL" and ended.fail_reason
        assert receiver.received == []  # e签宝 notifies only successes by default
        client.close()


def test_a_refused_callback_is_delivered_again(receiver: Receiver) -> None:
    receiver.answers[:] = [500]
    with EsignSimulator(callback_url=receiver.url()) as sim:
        sim.send_callback(SCRIPTED_SUCCESS_ID)
        assert [status for _, status in sim.callbacks_sent] == [500, 200]
    assert len(receiver.received) == 2
