"""The bot's Slack Web API client, and Bolt's per-request one counted the same way.

Bolt builds a fresh plain WebClient for each request from the App's client's settings and hands
it to listeners (`client`, `say`) and to `complete` / `fail`. The bot's listeners send
everything through the bot's own client (SlackReplies), except a workflow step's end:
`complete` / `fail` must carry the execution's own token, so they use Bolt's client. For the
requests that carry such a token, this middleware (run after Bolt's own, which set the token)
swaps Bolt's client for a CountedWebClient with the same settings, so those calls are counted
at the same single point as the others (bot/slack/web_client.py). Other requests keep Bolt's
client untouched: building a second one costs ~11 µs (slack_sdk reads the proxy variables
and builds its User-Agent each time), a few % of a request, for a client no listener uses.
"""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt.middleware import Middleware
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse

from bot.slack.retries import slack_retry_handlers
from bot.slack.web_client import CallObserver, CountedWebClient, client_like


def counted_web_client(
    api_url: str, token: str | None, on_call: CallObserver | None
) -> CountedWebClient:
    """The bot's Web API client: its retries, each call told to `on_call`."""
    return CountedWebClient(
        on_call=on_call, token=token, base_url=api_url, retry_handlers=slack_retry_handlers()
    )


class CountedRequestClient(Middleware):
    """A class rather than a decorated function: Bolt then calls it without building kwargs."""

    def __init__(self, on_call: CallObserver) -> None:
        self._on_call = on_call

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        client = req.context.client
        if req.context.function_bot_access_token is not None and not isinstance(
            client, CountedWebClient
        ):
            req.context["client"] = client_like(client, self._on_call)
        return next()
