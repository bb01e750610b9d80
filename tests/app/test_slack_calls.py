"""A workflow step's end goes through Bolt's per-request client: counted like the bot's own,
with the execution's token kept; no other listener uses Bolt's client."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

from slack_bolt import App, Complete
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.request import BoltRequest

from bot.app.slack_calls import CountedRequestClient, counted_web_client
from tests.slack_api_stub import SlackApiStub

HANDLERS = Path(__file__).resolve().parents[2] / "handlers"
#: What a listener would take to call Slack through Bolt's client rather than the bot's own.
BOLT_CLIENT_ARGS = frozenset({"client", "say", "respond"})


def function_executed(token: str) -> str:
    return json.dumps(
        {
            "type": "event_callback",
            "team_id": "T1",
            "api_app_id": "A1",
            "event_id": "Ev1",
            "event_time": 1,
            "event": {
                "type": "function_executed",
                "function": {"callback_id": "check_flow"},
                "inputs": {},
                "function_execution_id": "Fx1",
                "bot_access_token": token,
                "event_ts": "1.0",
            },
        }
    )


def test_a_steps_end_is_counted_with_the_executions_token() -> None:
    told: list[tuple[str, str]] = []
    tokens: list[str | None] = []
    with SlackApiStub() as slack_api:
        app = App(
            client=counted_web_client(slack_api, None, None),
            # As the bot runs: the bot token reaches each request's client through `authorize`.
            authorize=lambda: AuthorizeResult(
                enterprise_id=None, team_id="T1", bot_token="xoxb-bot"
            ),
            request_verification_enabled=False,
            process_before_response=True,
        )
        app.use(CountedRequestClient(lambda *call: told.append(call)))

        @app.function("check_flow")
        def step(complete: Complete) -> None:
            tokens.append(complete.client.token)
            complete(outputs={})

        response = app.dispatch(BoltRequest(body=function_executed("xwfp-run"), headers={}))
    assert response.status == 200
    assert tokens == ["xwfp-run"]
    assert told == [("functions.completeSuccess", "ok")]


def test_no_listener_calls_slack_through_bolts_client() -> None:
    """Only a step's `complete` / `fail` may (their token is the execution's): anything else
    goes through the bot's own counted client."""
    found: list[str] = []
    for source in sorted(HANDLERS.glob("*.py")):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            args: list[Any] = []
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                args = [*node.args.args, *node.args.kwonlyargs]
            found += [f"{source.name}: {a.arg}" for a in args if a.arg in BOLT_CLIENT_ARGS]
            if isinstance(node, ast.Attribute) and node.attr == "client":
                found.append(f"{source.name}:{node.lineno} .client")
    assert found == []
