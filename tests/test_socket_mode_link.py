"""The worker's Socket Mode link: Bolt's dispatch over a socket that sends without Nagle."""

from __future__ import annotations

import socket

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.socket_mode_link import SocketModeLink
from stand_ins.slack_playground.socket_mode import SocketModeServer
from stand_ins.slack_sink import SlackSink

APP_TOKEN = "xapp-1-link-test"


def test_every_connection_sends_without_nagle_and_acks_through_bolt(sink: SlackSink) -> None:
    app = App(
        client=WebClient(token="xoxb-link-test", base_url=f"{sink.base_url()}/api/"),
        signing_secret="unused-in-socket-mode",
        request_verification_enabled=False,
    )

    @app.command("/esign-flow")
    def on_command(ack: Ack) -> None:
        ack(text="acked over the link")

    with SocketModeServer(APP_TOKEN) as server:
        sink.add_socket_urls(APP_TOKEN, [server.open_connection_url() for _ in range(2)])
        link = SocketModeLink(app, APP_TOKEN)
        try:
            link.connect()
            assert server.wait_connected(5.0)
            for attempt in range(2):  # the first connection, then a reconnect's
                if attempt:
                    link.client.connect_to_new_endpoint(force=True)
                sock = link.client.current_session.sock
                assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
                delivery = server.deliver(
                    "slash_commands",
                    {"command": "/esign-flow", "text": "help", "team_id": "T0BENCH"},
                    timeout=5.0,
                )
                assert delivery.ack is not None
                assert delivery.ack.payload == {"text": "acked over the link"}
        finally:
            link.close()
