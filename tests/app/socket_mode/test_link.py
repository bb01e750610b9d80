"""The worker's Socket Mode link: Bolt's dispatch over the builtin client, tuned (Nagle, masking,
where envelopes run, the ack body)."""

from __future__ import annotations

import socket
import struct
import time

import pytest
from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.socket_mode.builtin.internals import _build_data_frame_for_sending

from bot.app.socket_mode.connection import LinkConnection, masked_text_frame
from bot.app.socket_mode.link import SocketModeLink
from stand_ins.slack_playground.socket_mode import SocketModeServer
from stand_ins.slack_sink import SlackSink

APP_TOKEN = "xapp-1-link-test"


CARD_ACK = {"text": "流程 803719636976683872", "blocks": [{"type": "divider"}]}


def _link_app(sink: SlackSink) -> App:
    """A Bolt app whose /esign-flow acks CARD_ACK, or nothing for the text "quiet"."""
    app = App(
        client=WebClient(token="xoxb-link-test", base_url=f"{sink.base_url()}/api/"),
        signing_secret="unused-in-socket-mode",
        request_verification_enabled=False,
    )

    @app.command("/esign-flow")
    def on_command(ack: Ack, command: dict[str, str]) -> None:
        if command["text"] == "quiet":
            ack()
        else:
            ack(**CARD_ACK)

    return app


def test_every_connection_sends_without_nagle_and_acks_through_bolt(sink: SlackSink) -> None:
    with SocketModeServer(APP_TOKEN) as server:
        sink.add_socket_urls(APP_TOKEN, [server.open_connection_url() for _ in range(2)])
        link = SocketModeLink(_link_app(sink), APP_TOKEN)
        try:
            link.open()
            assert server.wait_connected(5.0)
            for attempt in range(2):  # the first connection, then a reconnect's
                if attempt:
                    link.client.connect_to_new_endpoint(force=True)
                session = link.client.current_session
                assert isinstance(session, LinkConnection)
                assert session.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
                delivery = server.deliver(
                    "slash_commands",
                    {"command": "/esign-flow", "text": "help", "team_id": "T0BENCH"},
                    timeout=5.0,
                )
                assert delivery.ack is not None
                assert delivery.ack.payload == CARD_ACK
        finally:
            link.shut()


def _unmask(frame: bytes) -> tuple[bytes, bytes]:
    """(header without the key, payload) of a client's masked frame."""
    size, start = frame[1] & 0x7F, 2
    if size == 126:
        size, start = struct.unpack("!H", frame[2:4])[0], 4
    elif size == 127:
        size, start = struct.unpack("!Q", frame[2:10])[0], 10
    key, body = frame[start : start + 4], frame[start + 4 :]
    assert len(body) == size
    return frame[:start], bytes(b ^ key[i % 4] for i, b in enumerate(body))


@pytest.mark.parametrize(
    "payload",
    ["x" * size for size in (0, 1, 5, 125, 126, 127, 3001, 65535, 65536, 70001)]
    + ['{"text": "流程 803719636976683872 卡住了 ⏳"}'],
)
def test_a_masked_frame_says_what_slack_sdks_own_frame_says(payload: str) -> None:
    ours, theirs = masked_text_frame(payload), _build_data_frame_for_sending(payload, 1)
    assert _unmask(ours) == _unmask(theirs)
    assert _unmask(ours)[1] == payload.encode("utf-8")
    assert ours[0] == 0x81 and ours[1] & 0x80  # final text frame, masked


def test_each_frame_gets_a_fresh_mask_key() -> None:
    keys = {masked_text_frame("same ack")[2:6] for _ in range(50)}
    assert len(keys) > 45


def test_acks_arrive_as_bolt_made_them_and_slacks_disconnect_still_moves_the_link(
    sink: SlackSink,
) -> None:
    with SocketModeServer(APP_TOKEN) as server:
        sink.add_socket_urls(APP_TOKEN, [server.open_connection_url() for _ in range(2)])
        link = SocketModeLink(_link_app(sink), APP_TOKEN)
        try:
            link.open()
            assert server.wait_connected(5.0)
            card = server.deliver("slash_commands", {"command": "/esign-flow", "text": "x"})
            assert card.ack is not None
            assert card.ack.payload == CARD_ACK
            quiet = server.deliver("slash_commands", {"command": "/esign-flow", "text": "quiet"})
            assert quiet.ack is not None and not quiet.ack.payload
            # Slack's "disconnect" is not an envelope: the client's own thread opens the next
            # link, and envelopes on it are acked as before.
            assert server.request_reconnect() == 1
            deadline = time.monotonic() + 5
            while server.connections_opened < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert server.connections_opened == 2
            again = server.deliver("slash_commands", {"command": "/esign-flow", "text": "x"})
            assert again.ack is not None and again.ack.payload == card.ack.payload
        finally:
            link.shut()
