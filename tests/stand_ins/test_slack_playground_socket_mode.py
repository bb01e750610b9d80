"""The playground's Socket Mode endpoint: apps.connections.open, the WebSocket protocol edges
(with a raw socket client), and slack_sdk's own builtin Socket Mode client end to end."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.client import BaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from websockets.sync.client import ClientConnection, connect

from stand_ins.slack_playground import SLACKBOT_USER_ID, Playground

SIGNING_SECRET = "playground-test-signing-secret"
BOT_TOKEN = "xoxb-playground-test-token"
#: Fake, and not shaped like a real app-level token.
APP_TOKEN = "xapp-1-A0PLAYGRND-1-unittest"
#: RFC 6455's sample key: the handshake tests only read the status line.
SAMPLE_KEY = "dGhlIHNhbXBsZSBub25jZQ=="


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition still false"
        time.sleep(0.02)


class RawClient:
    """A bare TCP client: sends exactly the handshake and bytes a test writes."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        assert parts.hostname and parts.port
        self.target = f"{parts.path}?{parts.query}"
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=5)
        self._buffer = b""

    def handshake(self, target: str | None = None, **headers: str) -> tuple[int, dict[str, str]]:
        fields = {
            "Host": "127.0.0.1",
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Key": SAMPLE_KEY,
            "Sec-WebSocket-Version": "13",
            **{name.replace("_", "-"): value for name, value in headers.items()},
        }
        lines = [f"GET {target or self.target} HTTP/1.1"]
        lines += [f"{name}: {value}" for name, value in fields.items() if value]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        while b"\r\n\r\n" not in self._buffer:
            self._fill()
        head, _, self._buffer = self._buffer.partition(b"\r\n\r\n")
        status_line, *rest = head.decode().split("\r\n")
        answer = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in rest)}
        return int(status_line.split()[1]), answer

    def read_frame(self) -> tuple[int, bytes]:
        """The server's next frame as (opcode, payload): servers never mask nor fragment
        what these tests read."""
        first, second = self._read(2)
        size = second & 0x7F
        if size == 126:
            size = int.from_bytes(self._read(2), "big")
        return first & 0x0F, self._read(size)

    def _read(self, size: int) -> bytes:
        while len(self._buffer) < size:
            self._fill()
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        assert chunk, "the server hung up"
        self._buffer += chunk

    def close(self) -> None:
        self.sock.close()


def masked(first_byte: int, payload: bytes) -> bytes:
    """A short client frame with an all-zero mask (so the payload reads as sent)."""
    return bytes([first_byte, 0x80 | len(payload)]) + b"\0\0\0\0" + payload


@contextmanager
def connected_client(pg: Playground) -> Iterator[ClientConnection]:
    """websockets' own client, through the handshake and Slack's hello."""
    assert pg.socket_mode is not None
    url = pg.socket_mode.open_connection_url()
    with connect(url, compression=None, close_timeout=1) as client:
        hello = json.loads(client.recv(timeout=5))
        assert hello["type"] == "hello"
        assert pg.wait_socket_connected(2)
        yield client


def connected_raw_client(pg: Playground) -> RawClient:
    assert pg.socket_mode is not None
    client = RawClient(pg.socket_mode.open_connection_url())
    status, _ = client.handshake()
    assert status == 101
    opcode, hello = client.read_frame()
    assert opcode == 0x1 and json.loads(hello)["type"] == "hello"
    assert pg.wait_socket_connected(2)
    return client


@pytest.fixture
def pg() -> Iterator[Playground]:
    with Playground(
        signing_secret=SIGNING_SECRET, bot_token=BOT_TOKEN, app_token=APP_TOKEN
    ) as playground:
        yield playground


# ---------------------------------------------------------------------- apps.connections.open


def _open(pg: Playground, **request: Any) -> Any:
    return httpx.post(f"{pg.api_url}apps.connections.open", **request).json()


def test_apps_connections_open_hands_out_a_ws_url_for_the_app_token_only(pg: Playground) -> None:
    answer = _open(pg, headers={"Authorization": f"Bearer {APP_TOKEN}"})
    assert answer["ok"] is True
    url = urlsplit(answer["url"])
    assert pg.socket_mode is not None
    assert (url.scheme, url.hostname, url.port) == ("ws", "127.0.0.1", pg.socket_mode.port)
    assert url.path == "/link/"
    assert parse_qs(url.query)["ticket"] and parse_qs(url.query)["app_id"] == ["A0PLAYGRND"]
    refusals = [
        _open(pg, headers={"Authorization": f"Bearer {BOT_TOKEN}"}),
        _open(pg, headers={"Authorization": "Bearer xapp-1-A0OTHER-1-nope"}),
        _open(pg, data={"token": APP_TOKEN}),  # Slack wants it in the header
    ]
    assert [r.get("error") for r in refusals] == ["invalid_auth", "invalid_auth", "not_authed"]
    # The bot's own methods still take only the bot token.
    post = httpx.post(
        f"{pg.api_url}chat.postMessage",
        headers={"Authorization": f"Bearer {APP_TOKEN}"},
        json={"channel": "C0GENERAL", "text": "hi"},
    ).json()
    assert post["error"] == "invalid_auth"
    recorded = [c for c in pg.workspace.calls() if c.method == "apps.connections.open"]
    assert [c.response["ok"] for c in recorded] == [True, False, False, False]
    assert all(APP_TOKEN not in json.dumps(c.payload) for c in recorded)


def test_without_an_app_token_there_is_no_socket_mode() -> None:
    with Playground(signing_secret=SIGNING_SECRET, bot_token=BOT_TOKEN) as plain:
        assert plain.socket_mode is None and plain.transport == "http"
        answer = _open(plain, headers={"Authorization": f"Bearer {APP_TOKEN}"})
        assert answer == {"ok": False, "error": "invalid_auth"}


# ---------------------------------------------------------------------- the WebSocket, raw


def test_a_ticket_opens_one_connection_and_bad_handshakes_are_refused(pg: Playground) -> None:
    assert pg.socket_mode is not None
    url = pg.socket_mode.open_connection_url()
    first = RawClient(url)
    assert first.handshake()[0] == 101
    _, hello = first.read_frame()
    assert json.loads(hello)["connection_info"] == {"app_id": "A0PLAYGRND"}
    again = RawClient(url)
    assert again.handshake()[0] == 401  # used ticket
    fresh = pg.socket_mode.open_connection_url()
    wrong_path = RawClient(fresh)
    assert wrong_path.handshake(target="/other/" + fresh.partition("/link/")[2])[0] == 404
    # Not an upgrade, or not one websockets can accept: refused before the ticket is used.
    assert RawClient(fresh).handshake(Upgrade="")[0] == 426
    assert RawClient(fresh).handshake(Sec_WebSocket_Version="8")[0] == 400
    assert RawClient(fresh).handshake(Sec_WebSocket_Key="short")[0] == 400
    second = RawClient(fresh)
    assert second.handshake()[0] == 101
    assert second.read_frame()[0] == 0x1  # hello
    assert pg.socket_mode.connections_opened == 2
    first.close()
    second.close()


def test_ping_fragments_and_the_closing_handshake(pg: Playground) -> None:
    with connected_client(pg) as client:
        assert client.ping(b"are you there").wait(2)

        result: list[Any] = []
        worker = threading.Thread(target=lambda: result.append(pg.slash_command("help")))
        worker.start()
        envelope = json.loads(client.recv(timeout=5))
        assert envelope["type"] == "slash_commands" and envelope["accepts_response_payload"] is True
        ack = json.dumps({"envelope_id": envelope["envelope_id"], "payload": {"text": "Usage: …"}})
        half = len(ack) // 2
        client.send([ack[:half], ack[half:]])  # one message in two fragments
        worker.join(timeout=5)
        [exchange] = result
        assert exchange.status == 200 and exchange.json() == {"text": "Usage: …"}
        [shown] = pg.workspace.messages()
        assert shown.text == "Usage: …" and shown.ephemeral_to == "U0PLAYER1"

        client.close(1000, "bye")
        assert client.protocol.close_rcvd is not None and client.protocol.close_rcvd.code == 1000
        wait_until(lambda: not pg.socket_connected)


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        (b"\x81\x02{}", 1002),  # unmasked
        (masked(0x09, b"x"), 1002),  # fragmented control frame (FIN clear)
        (masked(0x83, b"x"), 1002),  # reserved opcode
        (masked(0x81, b"\xff\xfe"), 1007),  # not UTF-8
        (masked(0x80, b"x"), 1002),  # a continuation with nothing to continue
    ],
)
def test_protocol_errors_close_the_link(pg: Playground, frame: bytes, code: int) -> None:
    client = connected_raw_client(pg)
    client.sock.sendall(frame)
    opcode, payload = client.read_frame()
    assert opcode == 0x8 and int.from_bytes(payload[:2], "big") == code
    client.close()  # a client hangs up after the server's close frame
    wait_until(lambda: not pg.socket_connected)


def test_messages_that_are_not_acks_are_ignored(pg: Playground) -> None:
    with connected_client(pg) as client:
        client.send(b"\x00\x01")
        client.send("not json")
        client.send(json.dumps({"type": "something_else"}))
        client.send(json.dumps({"envelope_id": "never-sent"}))
        assert pg.socket_mode is not None
        wait_until(lambda: bool(pg.socket_mode and pg.socket_mode.acks()))
        [ack] = pg.socket_mode.acks()
        assert (ack.envelope_id, ack.elapsed) == ("never-sent", None)
        assert pg.socket_connected


def test_no_ack_no_connection_and_a_lost_connection(pg: Playground) -> None:
    assert pg.socket_mode is not None
    not_connected = pg.socket_mode.deliver("events_api", {"type": "event_callback"})
    assert not_connected.error == "not_connected" and not_connected.exchange().status == 0
    # What Slack shows when no app is connected: the command failed to dispatch.
    assert pg.slash_command("help").status == 0
    [failure] = pg.workspace.messages()
    assert failure.user_id == SLACKBOT_USER_ID and "dispatch_failed" in failure.text

    with connected_client(pg) as client:
        silent = pg.socket_mode.deliver("events_api", {"type": "event_callback"}, timeout=0.2)
        assert silent.error == "no_ack" and 0.2 <= silent.elapsed < 1
        envelope = json.loads(client.recv(timeout=5))
        assert envelope["retry_attempt"] == 0 and envelope["accepts_response_payload"] is False

        threading.Timer(
            0.1, client.close_socket
        ).start()  # the TCP connection drops, no close frame
        lost = pg.socket_mode.deliver("events_api", {"type": "event_callback"}, timeout=5)
        assert lost.error == "connection_closed" and lost.elapsed < 2


def test_stop_says_going_away_and_leaves_no_thread_behind() -> None:
    before = set(threading.enumerate())
    playground = Playground(
        signing_secret=SIGNING_SECRET, bot_token=BOT_TOKEN, app_token=APP_TOKEN
    ).start()
    client = connected_raw_client(playground)
    assert playground.socket_mode is not None
    idle = RawClient(playground.socket_mode.open_connection_url())  # never sends a handshake
    # Accepted, so stop() meets a connection stuck before its handshake.
    wait_until(lambda: bool(playground.socket_mode and playground.socket_mode._connections))
    started = time.monotonic()
    stopper = threading.Thread(target=playground.stop)
    stopper.start()
    opcode, payload = client.read_frame()
    assert opcode == 0x8 and payload[:2] == (1001).to_bytes(2, "big")
    client.close()  # hang up, as a client does after a close frame
    stopper.join(timeout=10)
    assert time.monotonic() - started < 3
    wait_until(lambda: not (set(threading.enumerate()) - before), timeout=3)
    idle.close()


def test_a_client_that_never_answers_the_close_frame_is_cut() -> None:
    playground = Playground(
        signing_secret=SIGNING_SECRET, bot_token=BOT_TOKEN, app_token=APP_TOKEN
    ).start()
    client = connected_raw_client(playground)
    started = time.monotonic()
    playground.stop()  # the raw client reads nothing and never answers
    assert time.monotonic() - started < 3
    assert client.read_frame()[0] == 0x8
    assert client.sock.recv(1) == b""  # then the hang-up
    client.close()


# ---------------------------------------------------------------------- slack_sdk's client


class RecordingApp:
    """Stands in for Bolt behind slack_sdk's client: records requests, acks each one."""

    def __init__(self) -> None:
        self.requests: list[SocketModeRequest] = []

    def __call__(self, client: BaseSocketModeClient, request: SocketModeRequest) -> None:
        self.requests.append(request)
        payload = {"text": "Looking it up…"} if request.type == "slash_commands" else None
        client.send_socket_mode_response(SocketModeResponse(request.envelope_id, payload))


@pytest.fixture(scope="module")
def sdk() -> Iterator[tuple[Playground, SocketModeClient, RecordingApp]]:
    playground = Playground(
        signing_secret=SIGNING_SECRET, bot_token=BOT_TOKEN, app_token=APP_TOKEN
    ).start()
    client = SocketModeClient(
        app_token=APP_TOKEN, web_client=WebClient(token=BOT_TOKEN, base_url=playground.api_url)
    )
    app = RecordingApp()
    client.socket_mode_request_listeners.append(app)
    client.connect()
    assert playground.wait_socket_connected(5)
    yield playground, client, app
    # Server first: its close frame ends the client's read at once; closing the client first
    # would wait out the client's 3 s socket timeout.
    client.auto_reconnect_enabled = False
    playground.stop()
    client.close()


def test_sdk_client_gets_the_same_slash_command_the_http_path_posts(
    sdk: tuple[Playground, SocketModeClient, RecordingApp],
) -> None:
    playground, _, app = sdk
    playground.workspace.reset()
    app.requests.clear()
    exchange = playground.slash_command("8037123456789012345")
    assert exchange.status == 200 and exchange.elapsed < 1
    assert exchange.json() == {"text": "Looking it up…"}
    [request] = app.requests
    assert request.type == "slash_commands" and request.accepts_response_payload
    payload = request.payload
    assert payload["command"] == "/esign-flow" and payload["text"] == "8037123456789012345"
    assert payload["is_enterprise_install"] == "false"  # strings, as in the HTTP form
    assert payload["response_url"].startswith(f"{playground.base_url}/response/")
    [shown] = playground.workspace.messages()
    assert shown.text == "Looking it up…" and shown.is_ephemeral


def test_sdk_client_gets_a_message_shortcut_as_an_interactive_envelope(
    sdk: tuple[Playground, SocketModeClient, RecordingApp],
) -> None:
    playground, _, app = sdk
    playground.workspace.reset()
    app.requests.clear()
    parent = playground.post_user_message("flow 8037123456789012345")
    exchange = playground.message_shortcut(parent.ts)
    assert exchange.status == 200 and exchange.body == ""
    [request] = app.requests
    assert request.type == "interactive" and not request.accepts_response_payload
    assert request.payload["type"] == "message_action"
    assert request.payload["message"]["ts"] == parent.ts


def test_sdk_client_answers_pings_and_reconnects_when_told(
    sdk: tuple[Playground, SocketModeClient, RecordingApp],
) -> None:
    playground, _, app = sdk
    server = playground.socket_mode
    assert server is not None
    assert server.ping(timeout=3)
    opened = server.connections_opened
    assert server.request_reconnect("refresh_requested") == 1
    wait_until(lambda: server.connections_opened == opened + 1 and server.open_links == 1)
    app.requests.clear()
    assert playground.slash_command("help").status == 200
    assert len(app.requests) == 1
