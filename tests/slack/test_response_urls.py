"""ResponseUrlClient against real HTTP(S) servers on loopback: reuse, retries, no double posts."""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import trustme

from bot.slack.response_urls import (
    MAX_RESPONSE_BYTES,
    MAX_RETRY_AFTER_SECONDS,
    USER_AGENT,
    HookPostFailed,
    ResponseUrlClient,
    _bypasses_proxy,
)

PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy")


@dataclass
class Scripted:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    #: answer, then close the socket without saying so (as an idle timeout would later)
    close_after: bool = False
    #: read the request, record it, then close without answering
    drop: bool = False
    #: read the request, record it, and answer only after this many seconds
    delay: float = 0.0
    #: send the body in chunks (no Content-Length)
    chunked: bool = False


class HookServer:
    """Records every request it reads and every connection it opens and closes."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.received: list[tuple[str, dict[str, Any], dict[str, str]]] = []
        self.connect_requests: list[str] = []
        self.connections = 0
        self.open_connections = 0
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
                    server.open_connections += 1

            def finish(self) -> None:
                try:
                    super().finish()
                finally:
                    with server.lock:
                        server.open_connections -= 1

            def do_CONNECT(self) -> None:
                with server.lock:
                    server.connect_requests.append(self.path)
                self.send_error(502)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                with server.lock:
                    step = server.script.pop(0) if server.script else Scripted()
                    server.received.append((self.path, json.loads(raw), dict(self.headers)))
                if step.drop:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                time.sleep(step.delay)
                self.send_response(step.status)
                for name, value in step.headers.items():
                    self.send_header(name, value)
                if step.chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    for start in range(0, len(step.body), 1000):
                        piece = step.body[start : start + 1000]
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                    self.wfile.write(b"0\r\n\r\n")
                else:
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
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.scheme = "https" if tls is not None else "http"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.httpd.server_address[1]}"

    def texts(self) -> list[str]:
        return [body["text"] for _, body, _ in self.received]

    def wait_all_closed(self, timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if self.open_connections == 0:
                    return True
            time.sleep(0.02)
        return False

    def __enter__(self) -> HookServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture(autouse=True)
def no_proxy_from_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


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


# --- reuse ------------------------------------------------------------------------------------


def test_posts_json_and_reuses_one_connection_per_thread(
    server: HookServer, client: ResponseUrlClient
) -> None:
    for n in range(20):
        answer = client.post_json(f"{server.url}/response/T1/{n}?x=1", {"text": f"card {n}"})
        assert (answer.status, answer.body) == (200, "ok")
    assert server.connections == 1
    assert [path for path, _, _ in server.received] == [f"/response/T1/{n}?x=1" for n in range(20)]
    assert server.texts()[7] == "card 7"
    headers = server.received[0][2]
    assert headers["Content-Type"] == "application/json;charset=utf-8"
    assert headers["User-Agent"] == USER_AGENT and "slackclient/" in USER_AGENT
    assert headers["Host"] == f"127.0.0.1:{server.httpd.server_address[1]}"


def test_threads_post_concurrently_through_one_shared_pool(
    server: HookServer, client: ResponseUrlClient
) -> None:
    statuses: list[int] = []

    def post_ten(worker: int) -> None:
        for n in range(10):
            statuses.append(client.post_json(f"{server.url}/r", {"text": f"{worker}-{n}"}).status)

    threads = [threading.Thread(target=post_ten, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 40
    assert sorted(server.texts()) == sorted(f"{w}-{n}" for w in range(4) for n in range(10))
    assert 1 <= server.connections <= 4  # never more than the posts in flight at once


def test_a_connection_the_server_closed_while_idle_is_replaced_before_posting(
    server: HookServer, client: ResponseUrlClient, sleeps: Sleeps
) -> None:
    server.script = [Scripted(close_after=True)]
    assert client.post_json(f"{server.url}/r", {"text": "first"}).status == 200
    assert server.wait_all_closed()
    assert client.post_json(f"{server.url}/r", {"text": "second"}).status == 200
    assert server.texts() == ["first", "second"]
    assert server.connections == 2 and sleeps == []


def test_a_reused_connection_closed_unanswered_is_retried_at_once_on_a_new_one(
    server: HookServer, client: ResponseUrlClient, sleeps: Sleeps
) -> None:
    assert client.post_json(f"{server.url}/r", {"text": "first"}).status == 200
    server.script = [Scripted(drop=True)]
    assert client.post_json(f"{server.url}/r", {"text": "second"}).status == 200
    assert server.texts() == ["first", "second", "second"]  # the dropped one was never answered
    assert sleeps == []  # a stale connection is not a failure worth a pause


def test_a_new_connection_closed_unanswered_is_retried_after_a_pause(
    server: HookServer, client: ResponseUrlClient, sleeps: Sleeps
) -> None:
    server.script = [Scripted(drop=True)]
    assert client.post_json(f"{server.url}/r", {"text": "card"}).status == 200
    assert server.texts() == ["card", "card"]
    assert len(sleeps) == 1 and 0.5 <= sleeps[0] <= 1.0


# --- never twice --------------------------------------------------------------------------------


@pytest.mark.parametrize("warm", [False, True], ids=["new connection", "reused connection"])
def test_a_slow_answer_is_reported_not_posted_again(server: HookServer, warm: bool) -> None:
    client = ResponseUrlClient(timeout=0.3)
    if warm:
        client.post_json(f"{server.url}/r", {"text": "warm-up"})
    server.script = [Scripted(delay=0.8)]
    with pytest.raises(HookPostFailed) as failed:
        client.post_json(f"{server.url}/r", {"text": "card"})
    client.close()
    assert failed.value.reason == "TimeoutError"
    assert server.texts().count("card") == 1


# --- retries ----------------------------------------------------------------------------------


def test_429_waits_for_retry_after_then_posts_again(
    server: HookServer, client: ResponseUrlClient, sleeps: Sleeps
) -> None:
    server.script = [Scripted(429, b"rate_limited", {"Retry-After": "2"})]
    answer = client.post_json(f"{server.url}/r", {"text": "card"})
    assert (answer.status, answer.body) == (200, "ok")
    assert len(server.received) == 2
    assert len(sleeps) == 1 and 2.0 <= sleeps[0] <= 2.5


@pytest.mark.parametrize(
    ("retry_after", "low", "high"),
    [
        ("3600", MAX_RETRY_AFTER_SECONDS, MAX_RETRY_AFTER_SECONDS + 0.5),
        (None, 0.5, 1.0),
        ("soon", 0.5, 1.0),
        ("-4", 0.5, 1.0),
        ("nan", 0.5, 1.0),
    ],
)
def test_an_odd_retry_after_gives_a_bounded_pause(
    server: HookServer,
    client: ResponseUrlClient,
    sleeps: Sleeps,
    retry_after: str | None,
    low: float,
    high: float,
) -> None:
    headers = {} if retry_after is None else {"Retry-After": retry_after}
    server.script = [Scripted(429, b"rate_limited", headers)]
    assert client.post_json(f"{server.url}/r", {"text": "card"}).status == 200
    assert len(sleeps) == 1 and low <= sleeps[0] <= high


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_are_retried_twice_then_reported(
    server: HookServer, client: ResponseUrlClient, sleeps: Sleeps, status: int
) -> None:
    server.script = [Scripted(status, b"oops", {"Retry-After": "20"})] * 3
    answer = client.post_json(f"{server.url}/r", {"text": "card"})
    assert (answer.status, answer.body) == (status, "oops")
    assert len(server.received) == 3
    # Backoff, as slack_sdk does for server errors; Retry-After only counts for 429.
    assert len(sleeps) == 2 and 0.5 <= sleeps[0] <= 1.0 and 1.0 <= sleeps[1] <= 1.5


def test_retries_share_one_budget(
    server: HookServer, client: ResponseUrlClient, sleeps: Sleeps
) -> None:
    server.script = [Scripted(429, b"rate_limited"), Scripted(500), Scripted(503, b"down")]
    answer = client.post_json(f"{server.url}/r", {"text": "card"})
    assert (answer.status, answer.body) == (503, "down")
    assert len(server.received) == 3 and len(sleeps) == 2


def test_other_refusals_are_returned_without_retry(
    server: HookServer, client: ResponseUrlClient, sleeps: Sleeps
) -> None:
    server.script = [Scripted(404, b"expired_url")]
    answer = client.post_json(f"{server.url}/r", {"text": "card"})
    assert (answer.status, answer.body) == (404, "expired_url")
    assert len(server.received) == 1 and sleeps == []


def test_nobody_listening_fails_after_the_retries(sleeps: Sleeps) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    client = ResponseUrlClient(timeout=2, sleep=sleeps)
    with pytest.raises(HookPostFailed) as failed:
        client.post_json(f"http://127.0.0.1:{port}/r", {"text": "card"})
    assert failed.value.reason == "ConnectionRefusedError"
    assert failed.value.__cause__ is None and failed.value.__context__ is not None
    assert len(sleeps) == 2


# --- answers ----------------------------------------------------------------------------------


def test_a_long_answer_is_cut_and_its_connection_not_reused(
    server: HookServer, client: ResponseUrlClient
) -> None:
    server.script = [Scripted(200, b"x" * (MAX_RESPONSE_BYTES * 4))]
    assert len(client.post_json(f"{server.url}/r", {"text": "a"}).body) == MAX_RESPONSE_BYTES
    assert client.post_json(f"{server.url}/r", {"text": "b"}).body == "ok"
    assert server.connections == 2


@pytest.mark.parametrize("size", [0, 10, MAX_RESPONSE_BYTES])
def test_chunked_answers_are_read_whole_and_the_connection_kept(
    server: HookServer, client: ResponseUrlClient, size: int
) -> None:
    server.script = [Scripted(200, b"y" * size, chunked=True)]
    assert client.post_json(f"{server.url}/r", {"text": "a"}).body == "y" * size
    assert client.post_json(f"{server.url}/r", {"text": "b"}).body == "ok"
    assert server.connections == 1


def test_connection_closing_answers_open_a_new_connection_each_time(
    server: HookServer, client: ResponseUrlClient
) -> None:
    server.script = [Scripted(headers={"Connection": "close"}, close_after=True)] * 3
    for n in range(3):
        assert client.post_json(f"{server.url}/r", {"text": str(n)}).status == 200
    assert server.connections == 3 and len(server.received) == 3


# --- what it refuses --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "ftp://127.0.0.1/r",
        "file:///etc/passwd",
        "http:///r",
        "r",
        "http://127.0.0.1:99999/r",
        "http://127.0.0.1:abc/r",
        "http://127.0.0.1/r/你好",
        "http://127.0.0.1/r x",
        "http://127.0.0.1/r\r\nX-Injected: 1",
        "http://user:pw@127.0.0.1/r",
    ],
)
def test_urls_it_cannot_post_to_are_refused_before_any_connection(
    path: str, client: ResponseUrlClient, sleeps: Sleeps
) -> None:
    with pytest.raises(HookPostFailed) as failed:
        client.post_json(path, {"text": "x"})
    assert failed.value.reason == "unsupported_url"
    assert failed.value.__cause__ is None and sleeps == []


def test_close_releases_the_pooled_connections_and_refuses_later_posts(
    server: HookServer, client: ResponseUrlClient
) -> None:
    worker = threading.Thread(target=lambda: client.post_json(f"{server.url}/r", {"text": "a"}))
    worker.start()
    worker.join()
    client.post_json(f"{server.url}/r", {"text": "b"})  # another thread, the same connection
    assert server.connections == 1 and server.open_connections == 1
    client.close()
    assert server.wait_all_closed()
    with pytest.raises(HookPostFailed, match="closed"):
        client.post_json(f"{server.url}/r", {"text": "c"})
    assert server.texts() == ["a", "b"]


# --- TLS --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_server(authority: trustme.CA) -> Iterator[HookServer]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    with HookServer(tls=context) as running:
        yield running


def test_https_verifies_the_certificate_and_keeps_the_connection(
    tls_server: HookServer, authority: trustme.CA, sleeps: Sleeps
) -> None:
    trusting = ssl.create_default_context()
    authority.configure_trust(trusting)
    client = ResponseUrlClient(timeout=5, sleep=sleeps, tls=trusting)
    for n in range(5):
        assert client.post_json(f"{tls_server.url}/r", {"text": str(n)}).status == 200
    client.close()
    assert tls_server.texts() == ["0", "1", "2", "3", "4"] and tls_server.connections == 1


def test_https_refuses_a_certificate_it_does_not_trust(
    tls_server: HookServer, sleeps: Sleeps
) -> None:
    client = ResponseUrlClient(timeout=5, sleep=sleeps)  # the system's trust store only
    with pytest.raises(HookPostFailed) as failed:
        client.post_json(f"{tls_server.url}/r", {"text": "card"})
    assert failed.value.reason == "SSLCertVerificationError"
    assert tls_server.received == []


# --- proxies ----------------------------------------------------------------------------------


def test_a_configured_proxy_carries_the_post(
    server: HookServer, sleeps: Sleeps, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("http_proxy", server.url)
    client = ResponseUrlClient(timeout=5, sleep=sleeps)
    answer = client.post_json("http://hooks.example.invalid/response/T1", {"text": "card"})
    assert answer.status == 200
    assert server.received[0][0] == "http://hooks.example.invalid/response/T1"
    assert server.received[0][1] == {"text": "card"}


def test_an_http_proxy_is_used_for_https_as_slack_sdk_does(
    server: HookServer, sleeps: Sleeps, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", server.url)
    client = ResponseUrlClient(timeout=5, sleep=sleeps, max_retries=0)
    with pytest.raises(HookPostFailed):  # this stand-in proxy refuses to tunnel
        client.post_json("https://hooks.example.invalid/response/T1", {"text": "card"})
    assert server.connect_requests[0] == "hooks.example.invalid:443"


def test_no_proxy_hosts_are_posted_to_directly(
    server: HookServer, sleeps: Sleeps, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("https_proxy", "http://127.0.0.1:9")  # would refuse every connection
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    client = ResponseUrlClient(timeout=5, sleep=sleeps)
    assert client.post_json(f"{server.url}/r", {"text": "card"}).status == 200
    assert server.received[0][0] == "/r"


@pytest.mark.parametrize("proxied", [False, True], ids=["direct", "proxied"])
def test_no_path_logs_the_url(
    server: HookServer,
    sleeps: Sleeps,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    proxied: bool,
) -> None:
    if proxied:
        monkeypatch.setenv("http_proxy", server.url)
    url = "http://hooks.example.invalid/T1/SECRET" if proxied else f"{server.url}/T1/SECRET"
    server.script = [Scripted(500)]
    client = ResponseUrlClient(timeout=5, sleep=sleeps)
    with caplog.at_level("DEBUG"):
        assert client.post_json(url, {"text": "x"}).status == 200
    client.close()
    assert len(server.received) == 2  # the 500 was retried, quietly
    assert not [r for r in caplog.records if "SECRET" in r.getMessage()]


@pytest.mark.parametrize(
    ("no_proxy", "host"),
    [
        ("", "hooks.slack.com"),
        ("*", "hooks.slack.com"),
        ("slack.com", "hooks.slack.com"),
        (".slack.com", "hooks.slack.com"),
        ("hooks.slack.com", "hooks.slack.com"),
        ("ooks.slack.com", "hooks.slack.com"),
        ("  Slack.COM , example.org", "hooks.slack.com"),
        ("127.0.0.1", "127.0.0.1:8080"),
        ("127.0.0.1:8080", "127.0.0.1:8080"),
        ("127.0.0.1:9090", "127.0.0.1:8080"),
        ("example.org", "hooks.slack.com"),
    ],
)
def test_no_proxy_is_read_as_urllib_reads_it(no_proxy: str, host: str) -> None:
    import urllib.request  # the reference: slack_sdk's urllib opener applies this rule

    hostname = host.split(":")[0]
    expected = urllib.request.proxy_bypass_environment(host, {"no": no_proxy})
    assert _bypasses_proxy(no_proxy, hostname, host) == bool(expected)
