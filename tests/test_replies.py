"""Which response_urls the bot agrees to post to."""

from __future__ import annotations

import pytest

from bot.replies import response_url_guard

SLACK = response_url_guard("https://slack.com/api/")
STAND_IN = response_url_guard("http://127.0.0.1:4567/api/")


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.slack.com/commands/T0/1/abc",
        "https://hooks.slack.com:443/actions/T0/1/abc",
        "https://hooks.slack-gov.com/commands/T0/1/abc",
    ],
)
def test_slack_hook_urls_are_allowed(url: str) -> None:
    assert SLACK(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.slack.com/commands/T0/1/abc",
        "https://hooks.slack.com:25/commands/T0/1/abc",
        "https://hooks.slack.com:99999/x",
        "https://hooks.slack.com:abc/x",
        "https://hooks.slack.com.evil.example/x",
        "https://evil.example/?hooks.slack.com",
        "https://evil.example#@hooks.slack.com/",
        "https://slack.com/api/chat.postMessage",
        "https://127.0.0.1:4567/response/x",
        "",
    ],
)
def test_anything_else_is_refused_in_production(url: str) -> None:
    assert not SLACK(url)


def test_against_a_stand_in_only_its_own_origin_is_allowed() -> None:
    assert STAND_IN("http://127.0.0.1:4567/response/T0/1/abc")
    assert not STAND_IN("http://127.0.0.1:4568/response/T0/1/abc")
    assert not STAND_IN("https://127.0.0.1:4567/response/T0/1/abc")
    assert not STAND_IN("https://hooks.slack.com/commands/T0/1/abc")


def test_view_calls_report_refusals_and_failures_as_values() -> None:
    import socket

    from slack_sdk import WebClient

    from bot.replies import SlackReplies
    from stand_ins.slack_playground import VIEWER_USER_ID, Playground

    modal = {"type": "modal", "title": {"type": "plain_text", "text": "x"}, "blocks": []}
    with Playground(signing_secret="s", bot_token="xoxb-replies") as pg:
        replies = SlackReplies(
            WebClient(token="xoxb-replies", base_url=pg.api_url), allow_response_url=STAND_IN
        )
        opened = replies.views_open(pg.workspace.surfaces.new_trigger(VIEWER_USER_ID), modal)
        assert opened.ok and opened.view_id and opened.hash
        assert replies.views_open("1.2.never-issued", modal).error == "invalid_trigger_id"
        stale = replies.views_update(opened.view_id, modal, hash="not-its-hash")
        assert stale.error == "hash_conflict"
        assert replies.views_publish(VIEWER_USER_ID, {"type": "home", "blocks": []}).ok
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}/api/"
    unreachable = SlackReplies(WebClient(token="x", base_url=dead), allow_response_url=STAND_IN)
    assert unreachable.views_publish(VIEWER_USER_ID, {"type": "home"}).error == "request_failed"
