"""Slow and hostile clients against the real web process (the Procfile's `web:` line): uploads
that stall halfway never hold up anyone else, and floods of refusals cannot flood the log."""

from __future__ import annotations

import contextlib
import re
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.app.web.asgi import BODY_SECONDS
from stand_ins.esign_simulator import EsignSimulator
from stand_ins.slack_playground import Playground
from tests.e2e.conftest import BotProcess, cards, start_bot

#: Promises about seconds (Slack's 3 s, a 5 s deadline): run alone, on a quiet machine.
pytestmark = pytest.mark.serial

DOC_FLOW = "803719636976683872"
#: A body that declares more than it sends: the client then goes quiet.
STALLED_REQUEST = (
    "POST {path} HTTP/1.1\r\nHost: bot\r\nContent-Type: application/x-www-form-urlencoded\r\n"
    "Content-Length: 2000\r\n\r\ntext=8037"
)


def address(bot: BotProcess) -> tuple[str, int]:
    host, port = bot.base_url.removeprefix("http://").split(":")
    return host, int(port)


@contextlib.contextmanager
def stalled_uploads(bot: BotProcess, count: int) -> Iterator[list[socket.socket]]:
    """`count` connections, half to Slack's door and half to e签宝's, each stuck mid-body."""
    opened: list[socket.socket] = []
    try:
        for n in range(count):
            path = "/slack/events" if n % 2 == 0 else "/esign/callback"
            conn = socket.create_connection(address(bot), timeout=5)
            conn.sendall(STALLED_REQUEST.format(path=path).encode())
            opened.append(conn)
        yield opened
    finally:
        for conn in opened:
            conn.close()


@pytest.mark.parametrize("stalled", [5, 50, 200])
def test_stalled_uploads_never_hold_up_a_command(
    slack: Playground, bot: BotProcess, stalled: int
) -> None:
    with stalled_uploads(bot, stalled):
        time.sleep(0.3)  # every stalled request is in the server before the commands
        acks = [slack.slash_command(DOC_FLOW) for _ in range(12)]
    assert [ack.status for ack in acks] == [200] * 12
    slowest = max(ack.elapsed for ack in acks)
    assert slowest < 1.0, f"a command waited {slowest:.2f} s behind {stalled} stalled uploads"
    # And the people who asked got their cards.
    assert len(slack.workspace.wait_for(cards(count=12), timeout=10)) >= 12


def test_a_stalled_upload_gets_408_and_is_closed(bot: BotProcess) -> None:
    with stalled_uploads(bot, 1) as (conn,):
        conn.settimeout(BODY_SECONDS + 5)
        started = time.monotonic()
        answer = conn.recv(4096)
        waited = time.monotonic() - started
        assert answer.startswith(b"HTTP/1.1 408"), answer[:80]
        assert BODY_SECONDS - 1 < waited < BODY_SECONDS + 4
        rest = b""
        while chunk := conn.recv(4096):
            rest += chunk
        # The server closed the connection: nothing more will be read from that client.
        assert b"HTTP/1.1" not in rest


def test_a_slow_but_steady_slack_request_is_still_served(
    slack: Playground, bot: BotProcess
) -> None:
    body = (
        f"command=%2Fesign-flow&text={DOC_FLOW}&user_id=U0PLAYER1&channel_id=C0GENERAL"
        "&team_id=T0PLAYGRND&response_url=" + slack.base_url + "/response_url/none"
    ).encode()
    headers = {
        **slack.sign(body),
        "Content-Type": "application/x-www-form-urlencoded",
        "Content-Length": str(len(body)),
    }
    head = "POST /slack/events HTTP/1.1\r\nHost: bot\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in headers.items()
    )
    with socket.create_connection(address(bot), timeout=10) as conn:
        conn.sendall(head.encode() + b"\r\n")
        for start in range(0, len(body), 40):
            conn.sendall(body[start : start + 40])
            time.sleep(0.1)  # a slow link: the whole body takes about a second
        answer = conn.recv(65536)
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]


def forged_callback(client: httpx.Client, simulator: EsignSimulator) -> int:
    response = client.post(
        "/esign/callback",
        content=b'{"action":"AUTH_FLOW_STATUS_CHANGE","flowId":"803719636976683872"}',
        headers={
            "Content-Type": "application/json",
            "X-Tsign-Open-App-Id": simulator.app_id,
            "X-Tsign-Open-TIMESTAMP": str(int(time.time() * 1000)),
            "X-Tsign-Open-SIGNATURE": "0" * 64,
        },
    )
    return response.status_code


def forged_command(client: httpx.Client) -> int:
    response = client.post(
        "/slack/events",
        content=f"command=%2Fesign-flow&text={DOC_FLOW}".encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": str(int(time.time())),
            "X-Slack-Signature": "v0=" + "0" * 64,
        },
    )
    return response.status_code


def test_a_flood_of_forged_requests_is_refused_and_logged_as_a_count(
    simulator: EsignSimulator, playground: Playground, tmp_path: Path
) -> None:
    bot = start_bot(simulator, playground, tmp_path / "bot.log", LOG_LEVEL="INFO")
    try:
        lines_before = len(bot.log().splitlines())
        with httpx.Client(base_url=bot.base_url, timeout=10) as client:
            callbacks = [forged_callback(client, simulator) for _ in range(1000)]
            commands = [forged_command(client) for _ in range(1000)]
        assert set(callbacks) == {401} and set(commands) == {401}
        flood_lines = bot.log().splitlines()[lines_before:]
        # The first few of each kind in full, then nothing until the window's summary.
        assert len(flood_lines) <= 8, "\n".join(flood_lines[:20])
    finally:
        assert bot.stop(signal.SIGTERM) == 0
    summaries = re.findall(r"refused (\d+) more requests of this kind", bot.log())
    assert sorted(int(n) for n in summaries) == [997, 997], bot.log()[-3000:]
