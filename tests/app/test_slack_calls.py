"""Bolt's per-request client is counted like the App's own, with the request's token kept."""

from __future__ import annotations

from slack_bolt import App, BoltContext
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.request import BoltRequest

from bot.app.slack_calls import CountedRequestClient, counted_web_client
from tests.slack_api_stub import SlackApiStub

COMMAND = "command=%2Fflow&text=1&user_id=U1&team_id=T1&channel_id=C1&trigger_id=t1"


def test_a_listeners_client_is_counted_and_keeps_bolts_settings() -> None:
    told: list[tuple[str, str]] = []
    seen: dict[str, object] = {}
    with SlackApiStub() as slack_api:
        app = App(
            client=counted_web_client(slack_api, None, None),
            # As the bot runs: the token reaches each request's client through `authorize`.
            authorize=lambda: AuthorizeResult(
                enterprise_id=None, team_id="T1", bot_token="xoxb-from-bolt"
            ),
            request_verification_enabled=False,
            process_before_response=True,
        )
        app.use(CountedRequestClient(lambda *call: told.append(call)))

        @app.command("/flow")
        def answer(ack: object, context: BoltContext) -> None:
            seen["token"] = context.client.token
            seen["base_url"] = context.client.base_url
            context.client.chat_postMessage(channel="C1", text="hi")
            ack()  # type: ignore[operator]

        response = app.dispatch(BoltRequest(body=COMMAND, headers={}))
    assert response.status == 200
    assert seen == {"token": "xoxb-from-bolt", "base_url": slack_api}
    assert told == [("chat.postMessage", "ok")]
