"""Which response_urls the bot agrees to post to."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from bot.slack.replies import Fate, SlackReplies, response_url_guard
from bot.slack.retries import slack_retry_handlers
from stand_ins.slack_sink import SlackSink
from tests.redis_server import free_port

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

    from bot.slack.replies import SlackReplies
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


# --- what became of a Web API call, for callers that retry on their own -----------------------


def _once(api_url: str, timeout: int = 5) -> SlackReplies:
    client = WebClient(token="xoxb-test", base_url=api_url, retry_handlers=slack_retry_handlers())
    return SlackReplies(client, allow_response_url=lambda _: False).without_retries(timeout)


def _posts(sink: SlackSink) -> int:
    return sum(1 for method, _ in sink.api_calls() if method == "chat.postMessage")


def test_slack_saying_not_now_is_safe_to_send_again_and_is_sent_once(sink: SlackSink) -> None:
    replies = _once(sink.api_url())
    sink.slack_down("503", 30)
    down = replies.post("C0SUPPORT", {"text": "hi"})
    assert (down.ok, down.fate, down.retry_after) == (False, Fate.NOT_DONE, None)
    sink.slack_down("429", 30, retry_after=7)
    limited = replies.update("C0SUPPORT", "1.2", {"text": "hi"})
    assert (limited.fate, limited.retry_after) == (Fate.NOT_DONE, 7.0)
    assert _posts(sink) == 1  # no retries inside the call: the caller has its own
    sink.slack_up()
    assert replies.post("C0SUPPORT", {"text": "hi"}).ok


def test_no_answer_after_sending_is_unknown_and_no_connection_is_not_done(
    sink: SlackSink,
) -> None:
    sink.slack_down("hang", 30, hang_seconds=3)
    hung = _once(sink.api_url(), timeout=1).post("C0SUPPORT", {"text": "hi"})
    assert (hung.ok, hung.fate) == (False, Fate.UNKNOWN)
    assert sink.answers()[-1].key == "post:C0SUPPORT:None"  # Slack had it all the same
    closed = _once(f"http://127.0.0.1:{free_port()}/api/").post("C0SUPPORT", {"text": "hi"})
    assert (closed.ok, closed.fate) == (False, Fate.NOT_DONE)


def test_a_refusal_is_final() -> None:
    class Refusing(WebClient):
        def chat_postMessage(self, **kwargs: Any) -> SlackResponse:  # type: ignore[override]
            raise SlackApiError(
                "refused",
                SlackResponse(
                    client=self,
                    http_verb="POST",
                    api_url="chat.postMessage",
                    req_args={},
                    data={"ok": False, "error": "channel_not_found"},
                    headers={},
                    status_code=200,
                ),
            )

    refused = SlackReplies(Refusing(), allow_response_url=lambda _: False).post("C0", {"text": ""})
    assert (refused.fate, refused.error, refused.not_allowed_here) == (
        Fate.REFUSED,
        "channel_not_found",
        True,
    )
