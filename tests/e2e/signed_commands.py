"""Slash commands signed the way Slack signs them, sent straight to a bot whose Web API is the
Slack sink (stand_ins.slack_sink): its answers land at the sink, under the response_url's key."""

from __future__ import annotations

import itertools
import time

from stand_ins.slack_playground.slack_requests import (
    BotLink,
    RequestSigner,
    SlackExchange,
    slash_command_body,
)
from stand_ins.slack_playground.workspace import Channel, User
from stand_ins.slack_sink import SlackSink, dm_channel
from tests.e2e.conftest import SIGNING_SECRET, BotProcess

CHANNEL = Channel("C0GENERAL", "general")
_keys = itertools.count(1)


def person(n: int) -> User:
    return User(f"U0OUT{n:05d}", f"person{n}", f"Person {n}")


def command(bot: BotProcess, sink: SlackSink, text: str, user: User) -> tuple[str, SlackExchange]:
    """`/esign-flow <text>` from `user`; the key its answers land under at the sink."""
    key = f"cmd-{next(_keys)}"
    body = slash_command_body(
        command="/esign-flow",
        text=text,
        team_id="T0OUTAGE",
        team_domain="outage",
        channel=CHANNEL,
        user=user,
        response_url=f"{sink.base_url()}/response/{key}",
    )
    link = BotLink(RequestSigner(SIGNING_SECRET))
    try:
        return key, link.send_form(f"{bot.base_url}/slack/events", body)
    finally:
        link.close()


def wait_answer(sink: SlackSink, key: str, kind: str = "card", timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(a.key == key and a.kind == kind for a in sink.answers()):
            return
        time.sleep(0.05)
    raise AssertionError(f"no {kind} answer for {key}: {sink.answers()}")


def dm_notices(sink: SlackSink, user: User, flow_id: str) -> list[float]:
    """When each DM about `flow_id` reached the sink (time.monotonic())."""
    key = f"post:{dm_channel(user.id)}:None"
    return [a.at for a in sink.answers() if a.key == key and a.flow_id == flow_id]
