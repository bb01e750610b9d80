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
