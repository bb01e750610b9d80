"""The benchmark's Slack sink: what the bot posts, recorded by key with its arrival time."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from stand_ins.slack_sink import BASELINE_TEXT, BOT_USER_ID, SlackSink

CARD = {
    "replace_original": True,
    "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "Flow 8037 · Done"}}],
}


def test_response_urls_and_web_api_calls_are_recorded_by_key(sink: SlackSink) -> None:
    sent_at = time.monotonic()
    base = sink.base_url()
    assert httpx.post(f"{base}/response/keep-1", json=CARD).text == "ok"
    httpx.post(f"{base}/response/t2", json={"text": BASELINE_TEXT})
    httpx.post(f"{base}/response/t3", content=b"not json")
    auth = httpx.post(f"{sink.api_url()}auth.test").json()
    assert auth["ok"] is True and auth["user_id"] == BOT_USER_ID
    posted = httpx.post(
        f"{sink.api_url()}chat.postMessage",
        data={"channel": "C1", "thread_ts": "1.2", "text": "e签宝 is not answering"},
    ).json()
    assert posted["ok"] is True and posted["channel"] == "C1"
    httpx.post(
        f"{sink.api_url()}chat.update",
        json={"channel": "C1", "ts": "3.4", "blocks": json.dumps(CARD["blocks"])},
    )
    answers = sink.answers()
    assert [(a.key, a.kind, a.flow_id) for a in answers] == [
        ("keep-1", "card", "8037"),
        ("t2", "text", None),
        ("t3", "invalid", None),
        ("post:C1:1.2", "error", None),
        ("update:3.4", "card", "8037"),
    ]
    assert answers[0].replace_original and all(a.at >= sent_at for a in answers)
    assert sink.kept("keep-1") == CARD and sink.kept("t2") is None
    assert sink.other_texts() == {"e签宝 is not answering": 1}
    assert sink.count() == 5 and len(sink.answers(since=3)) == 2
    sink.reset()
    assert sink.count() == 0


def test_stopped_it_has_no_address() -> None:
    sink = SlackSink()
    url = sink.start()
    assert sink.start() == url  # already running
    sink.stop()
    with pytest.raises(RuntimeError):
        sink.base_url()


def test_apps_connections_open_hands_each_app_token_its_own_socket_urls(sink: SlackSink) -> None:
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    sink.add_socket_urls("xapp-bot", ["ws://127.0.0.1:1/link/?ticket=a", "ws://127.0.0.1:1/b"])
    sink.add_socket_urls("xapp-bare", ["ws://127.0.0.1:2/link/?ticket=c"])
    # As the Socket Mode client calls it: slack_sdk, the app-level token in the header.
    client = WebClient(base_url=sink.api_url())
    opened = client.apps_connections_open(app_token="xapp-bot")
    assert opened["url"] == "ws://127.0.0.1:1/link/?ticket=a"
    assert client.apps_connections_open(app_token="xapp-bare")["url"].startswith("ws://127.0.0.1:2")
    assert client.apps_connections_open(app_token="xapp-bot")["url"] == "ws://127.0.0.1:1/b"
    for token in ("xapp-bot", "xapp-unknown"):  # used up; never given any
        with pytest.raises(SlackApiError) as refused:
            client.apps_connections_open(app_token=token)
        assert refused.value.response["error"] == "invalid_auth"
    bare = httpx.post(f"{sink.api_url()}apps.connections.open", data={"token": "xapp-bare"})
    assert bare.json() == {"ok": False, "error": "not_authed"}  # the header only, as Slack
    assert [m for m, _ in sink.api_calls()] == ["apps.connections.open"] * 6
    assert sink.count() == 0  # not an answer anyone sees
