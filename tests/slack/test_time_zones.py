"""A person's time zone comes from users.info once, then from memory; chat.getPermalink gives a
message's link (through the playground's Web API over HTTP)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient

from bot.slack.replies import SlackReplies
from bot.slack.time_zones import SlackTimeZones
from stand_ins.slack_playground import COLLEAGUE_USER_ID, VIEWER_USER_ID, Playground

TOKEN = "xoxb-time-zones-test"


@pytest.fixture
def playground() -> Iterator[Playground]:
    with Playground(signing_secret="s", bot_token=TOKEN) as pg:
        yield pg


def test_a_time_zone_is_asked_once_and_an_unknown_person_is_none(playground: Playground) -> None:
    zones = SlackTimeZones(WebClient(token=TOKEN, base_url=playground.api_url))
    assert zones(VIEWER_USER_ID) == "Asia/Shanghai"
    assert zones(VIEWER_USER_ID) == "Asia/Shanghai"
    assert zones(COLLEAGUE_USER_ID) == "America/New_York"
    asked = [c for c in playground.workspace.calls() if c.method == "users.info"]
    assert len(asked) == 2
    assert zones("U0NOBODY") is None


def test_a_permalink_for_a_message_and_none_for_a_missing_one(playground: Playground) -> None:
    replies = SlackReplies(
        WebClient(token=TOKEN, base_url=playground.api_url), allow_response_url=lambda _: False
    )
    message = playground.post_user_message("hello")
    link = replies.permalink("C0GENERAL", message.ts)
    assert link is not None and link.endswith(f"/archives/C0GENERAL/p{message.ts.replace('.', '')}")
    assert replies.permalink("C0GENERAL", "1.000001") is None
