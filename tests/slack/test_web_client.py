"""Every Web API call of a CountedWebClient is told once, by method and outcome, over real HTTP."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry import RateLimitErrorRetryHandler

from bot.slack.web_client import CountedWebClient, client_like
from tests.slack_api_stub import SlackApiStub


@pytest.fixture
def slack_api() -> Iterator[str]:
    with SlackApiStub() as url:
        yield url


def test_each_call_is_told_once_by_method_and_outcome(slack_api: str) -> None:
    told: list[tuple[str, str]] = []
    client = CountedWebClient(
        on_call=lambda method, outcome: told.append((method, outcome)),
        token="xoxb-test",
        base_url=slack_api,
        # A 429 retried once: still one call, told after the retry.
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)],
    )
    assert client.chat_postMessage(channel="C1", text="hi")["ts"] == "1.2"
    with pytest.raises(SlackApiError):
        client.users_info(user="U1")
    with pytest.raises(SlackApiError):
        client.views_publish(user_id="U1", view={"type": "home", "blocks": []})
    with pytest.raises(SlackApiError):
        client.chat_update(channel="C1", ts="1.2", text="hi")
    assert told == [
        ("chat.postMessage", "ok"),
        ("users.info", "rate_limited"),
        ("views.publish", "error"),
        ("chat.update", "rate_limited"),  # Slack's own word, even with HTTP 200
    ]


def test_a_call_without_an_answer_is_an_error() -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    told: list[tuple[str, str]] = []
    client = CountedWebClient(
        on_call=lambda *call: told.append(call),
        token="xoxb-test",
        base_url=f"http://127.0.0.1:{port}/api/",
        retry_handlers=[],
    )
    with pytest.raises((SlackClientError, OSError)):
        client.auth_test()
    assert told == [("auth.test", "error")]


def test_a_copy_keeps_the_settings_and_the_counting(slack_api: str) -> None:
    told: list[str] = []
    original = CountedWebClient(
        on_call=lambda method, outcome: told.append(method),
        token="xoxb-test",
        base_url=slack_api,
        team_id="T1",
    )
    copy = client_like(original, timeout=3, retry_handlers=[])
    assert isinstance(copy, CountedWebClient)
    assert (copy.token, copy.base_url, copy.timeout, copy.retry_handlers) == (
        "xoxb-test",
        slack_api,
        3,
        [],
    )
    assert copy.default_params == {"team_id": "T1"}
    copy.chat_postMessage(channel="C1", text="hi")
    assert told == ["chat.postMessage"]

    plain = WebClient(token="xoxb-test", base_url=slack_api)
    assert type(client_like(plain)) is WebClient  # nobody to tell
    counted = client_like(plain, lambda method, outcome: told.append(method))
    counted.chat_postMessage(channel="C1", text="hi")
    assert told == ["chat.postMessage", "chat.postMessage"]
