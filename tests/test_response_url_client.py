"""ResponseUrlClient against a real HTTP server on loopback: reuse, retries, stale connections."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from bot.response_url_client import (
    MAX_RESPONSE_BYTES,
    MAX_RETRY_AFTER_SECONDS,
    HookPostFailed,
    ResponseUrlClient,
)


@dataclass
class Scripted:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    #: answer, then close the socket without saying so (as an idle timeout would later)
    close_after: bool = False
    #: close the socket without answering (the request is not recorded)
    drop: bool = False


class HookServer:
    """Records every POST it answers and every connection it accepts; answers from a script."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, Any], dict[str, str]]] = []
        self.connections = 0
        self.script: list[Scripted] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                with server.lock:
                    server.connections += 1

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                with server.lock:
                    step = server.script.pop(0) if server.script else Scripted()
                if step.drop:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                with server.lock:
                    server.received.append((self.path, json.loads(raw), dict(self.headers)))
                self.send_response(step.status)
                for name, value in step.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(step.body)))
                self.end_headers()
                self.wfile.write(step.body)
                if step.close_after:
                    self.wfile.flush()
                    self.close_connection = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> HookServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def server() -> Iterator[HookServer]:
    with HookServer() as running:
        yield running


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def client(sleeps: Sleeps) -> Iterator[ResponseUrlClient]:
    made = ResponseUrlClient(timeout=5, sleep=sleeps)
    yield made
    made.close()


def test_posts_json_and_reuses_one_connection_per_thread(
    server: HookServer, client: ResponseUrlClient
) -> None:
    for n in range(20):
        answer = client.post_json(f"{server.url}/response/T1/{n}?x=1", {"text": f"card {n}"})
        assert (answer.status, answer.body) == (200, "ok")
    assert server.connections == 1
    assert [path for path, _, _ in server.received] == [f"/response/T1/{n}?x=1" for n in range(20)]
    assert server.received[7][1] == {"text": "card 7"}
    assert server.received[0][2]["Content-Type"] == "application/json; charset=utf-8"


def test_threads_post_concurrently_each_over_its_own_connection(
    server: HookServer, client: ResponseUrlClient
) -> None:
    def post_ten(worker: int) -> None:
        for n in range(10):
            assert client.post_json(f"{server.url}/r", {"text": f"{worker}-{n}"}).status == 200

    threads = [threading.Thread(target=post_ten, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    texts = sorted(body["text"] for _, body, _ in server.received)
    assert texts == sorted(f"{w}-{n}" for w in range(4) for n in range(10))
    assert server.connections == 4


def test_a_connection_the_server_closed_while_idle_is_replaced_without_a_second_post(
    server: HookServer, client: ResponseUrlClient
) -> None:
    server.script = [Scripted(close_after=True)]
    assert client.post_json(f"{server.url}/r", {"text": "first"}).status == 200
    assert client.post_json(f"{server.url}/r", {"text": "second"}).status == 200
    assert [body["text"] for _, body, _ in server.received] == ["first", "second"]
    assert server.connections == 2


def test_a_reused_connection_dropped_mid_request_is_retried_once_on_a_new_one(
    server: HookServer, client: ResponseUrlClient, sleeps: Sleeps
) -> None:
    assert client.post_json(f"{server.url}/r", {"text": "first"}).status == 200
    server.script = [Scripted(drop=True)]
    assert client.post_json(f"{server.url}/r", {"text": "second"}).status == 200
    assert [body["text"] for _, body, _ in server.received] == ["first", "second"]
    assert sleeps == []  # a stale connection is not a failure worth a pause


def test_429_waits_for_retry_after_then_posts_again(
    server: HookServer, client: ResponseUrlClient, sleeps: Sleeps
) -> None:
    server.script = [Scripted(429, b"rate_limited", {"Retry-After": "2"})]
    answer = client.post_json(f"{server.url}/r", {"text": "card"})
    assert (answer.status, answer.body) == (200, "ok")
    assert len(server.received) == 2
    assert len(sleeps) == 1 and 2.0 <= sleeps[0] <= 2.5


def test_a_huge_retry_after_is_capped(
    server: HookServer, client: ResponseUrlClient, sleeps: Sleeps
) -> None:
    server.script = [Scripted(429, b"rate_limited", {"Retry-After": "3600"})]
    assert client.post_json(f"{server.url}/r", {"text": "card"}).status == 200
    assert MAX_RETRY_AFTER_SECONDS <= sleeps[0] <= MAX_RETRY_AFTER_SECONDS + 0.5


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_are_retried_twice_then_reported(
    server: HookServer, client: ResponseUrlClient, sleeps: Sleeps, status: int
) -> None:
    server.script = [Scripted(status, b"oops")] * 3
    answer = client.post_json(f"{server.url}/r", {"text": "card"})
    assert (answer.status, answer.body) == (status, "oops")
    assert len(server.received) == 3
    assert len(sleeps) == 2 and 0.5 <= sleeps[0] <= 1.0 and 1.0 <= sleeps[1] <= 1.5


def test_a_500_then_success_lands_once(
    server: HookServer, client: ResponseUrlClient, sleeps: Sleeps
) -> None:
    server.script = [Scripted(500, b"oops")]
    assert client.post_json(f"{server.url}/r", {"text": "card"}).status == 200
    assert len(server.received) == 2 and len(sleeps) == 1


def test_other_refusals_are_returned_without_retry(
    server: HookServer, client: ResponseUrlClient, sleeps: Sleeps
) -> None:
    server.script = [Scripted(404, b"expired_url")]
    answer = client.post_json(f"{server.url}/r", {"text": "card"})
    assert (answer.status, answer.body) == (404, "expired_url")
    assert len(server.received) == 1 and sleeps == []


def test_a_long_answer_is_cut_and_its_connection_not_reused(
    server: HookServer, client: ResponseUrlClient
) -> None:
    server.script = [Scripted(200, b"x" * (MAX_RESPONSE_BYTES * 4))]
    assert len(client.post_json(f"{server.url}/r", {"text": "a"}).body) == MAX_RESPONSE_BYTES
    assert client.post_json(f"{server.url}/r", {"text": "b"}).body == "ok"
    assert server.connections == 2


def test_connection_closing_answers_open_a_new_connection_each_time(
    server: HookServer, client: ResponseUrlClient
) -> None:
    server.script = [Scripted(headers={"Connection": "close"}, close_after=True)] * 3
    for n in range(3):
        assert client.post_json(f"{server.url}/r", {"text": str(n)}).status == 200
    assert server.connections == 3 and len(server.received) == 3


def test_nobody_listening_fails_after_the_retries(sleeps: Sleeps) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    client = ResponseUrlClient(timeout=2, sleep=sleeps)
    with pytest.raises(HookPostFailed) as failed:
        client.post_json(f"http://127.0.0.1:{port}/r", {"text": "card"})
    assert failed.value.reason == "ConnectionRefusedError"
    assert str(port) not in str(failed.value)
    assert len(sleeps) == 2


def test_a_server_that_never_answers_times_out() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        client = ResponseUrlClient(timeout=0.3, max_retries=0)
        with pytest.raises(HookPostFailed) as failed:
            client.post_json(f"http://127.0.0.1:{silent.getsockname()[1]}/r", {"text": "x"})
        client.close()
    assert failed.value.reason == "TimeoutError"


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/r", "file:///etc/passwd", "http:///r", "r"])
def test_urls_it_cannot_post_to_are_refused_before_any_connection(
    url: str, client: ResponseUrlClient
) -> None:
    with pytest.raises(HookPostFailed) as failed:
        client.post_json(url, {"text": "x"})
    assert failed.value.reason == "unsupported_url"


def test_close_releases_every_threads_connections(
    server: HookServer, client: ResponseUrlClient
) -> None:
    worker = threading.Thread(target=lambda: client.post_json(f"{server.url}/r", {"text": "a"}))
    worker.start()
    worker.join()
    client.post_json(f"{server.url}/r", {"text": "b"})
    client.close()
    assert client.post_json(f"{server.url}/r", {"text": "c"}).status == 200
    assert server.connections == 3


def test_a_configured_proxy_carries_the_post(
    server: HookServer, sleeps: Sleeps, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("http_proxy", server.url)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    client = ResponseUrlClient(timeout=5, sleep=sleeps)
    answer = client.post_json("http://hooks.example.invalid/response/T1", {"text": "card"})
    assert answer.status == 200
    assert server.received[0][0] == "http://hooks.example.invalid/response/T1"
    assert server.received[0][1] == {"text": "card"}
