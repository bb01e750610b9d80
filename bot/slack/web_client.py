"""The bot's Slack Web API client: slack_sdk's WebClient, telling someone of every call it makes.

Every Web API method of WebClient (chat_postMessage, users_info, views_publish, auth_test,
apps_connections_open…) goes through its public `api_call`, so overriding that one method
counts them all, whoever holds the client: SlackReplies, the locale and usergroup readers, the
Socket Mode link, Bolt's own per-request client (see `client_like`). A call is told once, after
slack_sdk's own retries: the figure is the number of calls the bot made, as the logs see them.

Outcomes: "ok", "rate_limited" (HTTP 429 or Slack's `ratelimited`), "error" (any other refusal,
or no answer at all).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

#: Told each call's method name and outcome.
CallObserver = Callable[[str, str], None]


def _not_counted(method: str, outcome: str) -> None:
    return None


class CountedWebClient(WebClient):
    def __init__(self, *, on_call: CallObserver | None = None, **options: Any) -> None:
        """`options`: WebClient's own (token, base_url, timeout, retry_handlers…)."""
        super().__init__(**options)
        self.on_call = on_call or _not_counted

    def api_call(self, api_method: str, **request: Any) -> SlackResponse:
        try:
            response = super().api_call(api_method, **request)
        except SlackApiError as exc:
            self.on_call(api_method, call_outcome(exc))
            raise
        except Exception:
            self.on_call(api_method, "error")
            raise
        self.on_call(api_method, "ok")
        return response


def call_outcome(exc: SlackApiError) -> str:
    response = exc.response
    if response.status_code == 429 or response.get("error") == "ratelimited":
        return "rate_limited"
    return "error"


def client_like(
    client: WebClient, on_call: CallObserver | None = None, **changes: Any
) -> WebClient:
    """A new client with `client`'s settings (token, URL, TLS, proxy, headers, retries), save
    `changes`; counted like `client`, or by `on_call` when given."""
    options: dict[str, Any] = {
        "token": client.token,
        "base_url": client.base_url,
        "timeout": client.timeout,
        "ssl": client.ssl,
        "proxy": client.proxy,
        "headers": dict(client.headers),
        "logger": client.logger,
        "retry_handlers": list(client.retry_handlers),
        # Bolt's per-request client carries the request's team (Org-wide installs).
        "team_id": client.default_params.get("team_id"),
        **changes,
    }
    if on_call is None and isinstance(client, CountedWebClient):
        on_call = client.on_call
    if on_call is None:
        return WebClient(**options)
    return CountedWebClient(on_call=on_call, **options)
