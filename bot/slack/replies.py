"""Sending answers to Slack: response_url posts and Web API calls, retried where Slack allows.

Every method reports success as a value and never raises, so a failing Slack call costs a log
line, not a worker thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.error import URLError
from urllib.parse import urlsplit

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web import SlackResponse

from bot.slack.response_urls import HookPostFailed, ResponseUrlClient
from bot.slack.web_client import client_like

log = logging.getLogger(__name__)

SLACK_HOOK_HOSTS = frozenset({"hooks.slack.com", "hooks.slack-gov.com"})


def response_url_guard(slack_api_url: str) -> Callable[[str], bool]:
    """Which response_urls the bot will post to: Slack's hook hosts, or the stand-in's host.

    A response_url comes inside the request; checking it keeps a crafted payload from turning
    the bot into a client for arbitrary URLs.
    """
    api = urlsplit(slack_api_url)
    if api.hostname in {"slack.com", "slack-gov.com"}:

        def is_slack_hook(url: str) -> bool:
            parts = urlsplit(url)
            try:
                port = parts.port
            except ValueError:
                return False
            if parts.scheme != "https" or parts.hostname not in SLACK_HOOK_HOSTS:
                return False
            return port in {None, 443}

        return is_slack_hook

    def same_host_as_api(url: str) -> bool:
        parts = urlsplit(url)
        return (parts.scheme, parts.netloc) == (api.scheme, api.netloc)

    return same_host_as_api


#: Web API errors that mean "the bot may not post here", as opposed to Slack being down.
CANNOT_POST_HERE = frozenset(
    {"not_in_channel", "channel_not_found", "is_archived", "restricted_action", "missing_scope"}
)


#: Statuses by which Slack says it did not act on the call: trying it again is safe.
NOT_DONE_STATUSES = frozenset({429, 500, 502, 503})
#: Errors in an answer that mean the same (Slack's own words for "later, please").
NOT_DONE_ERRORS = frozenset({"ratelimited", "service_unavailable"})


class Fate(StrEnum):
    """What became of a Web API call, as far as the bot can know."""

    DONE = "done"
    #: Slack did not act on it (a 429 or 5xx answer, or no connection): safe to send again.
    NOT_DONE = "not_done"
    #: It was sent and no answer came (a timeout, a dropped connection): Slack may have acted.
    UNKNOWN = "unknown"
    #: Slack answered and refused it (a bad channel, no access): sending again changes nothing.
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class PostResult:
    ok: bool
    ts: str | None = None
    error: str | None = None
    channel: str | None = None
    fate: Fate = Fate.DONE
    #: Slack's Retry-After, in seconds, when it asked for one.
    retry_after: float | None = None

    @property
    def not_allowed_here(self) -> bool:
        """The bot lacks access to the channel: inviting it would fix this."""
        return self.error in CANNOT_POST_HERE


@dataclass(frozen=True, slots=True)
class ViewResult:
    """What views.open / views.update / views.publish answered."""

    ok: bool
    view_id: str | None = None
    hash: str | None = None
    error: str | None = None


class SlackReplies:
    def __init__(
        self,
        client: WebClient,
        *,
        allow_response_url: Callable[[str], bool],
        hooks: ResponseUrlClient | None = None,
        on_call: Callable[[str, str], None] | None = None,
    ) -> None:
        """`on_call`: told each response_url post's outcome (ok, error, rate_limited) as
        ("response_url", outcome); Web API calls are counted by the client itself
        (bot/slack/web_client.py)."""
        self._client = client
        self._allow_response_url = allow_response_url
        self._hooks = hooks or ResponseUrlClient()
        self._on_call = on_call or _not_counted

    @property
    def client(self) -> WebClient:
        """The Web API client the replies go through (for other reads of the same Slack)."""
        return self._client

    def without_retries(self, timeout: int) -> SlackReplies:
        """The same Web API calls, each tried once and given up after `timeout` seconds, for a
        caller that retries on its own schedule (watch notices): retries inside the call would
        multiply its own."""
        client = client_like(self._client, timeout=timeout, retry_handlers=[])
        return SlackReplies(
            client,
            allow_response_url=self._allow_response_url,
            hooks=self._hooks,
            on_call=self._on_call,
        )

    def respond(
        self,
        response_url: str | None,
        message: dict[str, Any],
        *,
        replace_original: bool = False,
        delete_original: bool = False,
        thread_ts: str | None = None,
        in_channel: bool = False,
    ) -> bool:
        """`in_channel` only for a conversation the person picked themselves (the modal's
        "Also post to…"): every other answer through a response_url is private."""
        if response_url is None or not self._allow_response_url(response_url):
            log.warning("refused to post to an unexpected response_url")
            return False
        body: dict[str, Any] = {
            **message,
            "response_type": "in_channel" if in_channel else "ephemeral",
        }
        if replace_original:
            body["replace_original"] = True
        if delete_original:
            body = {"delete_original": True}
        if thread_ts:
            body["thread_ts"] = thread_ts
        try:
            response = self._hooks.post_json(response_url, body)
        except HookPostFailed as exc:
            self._on_call("response_url", "error")
            log.warning("response_url post failed", extra={"error": exc.reason})
            return False
        self._on_call("response_url", _hook_outcome(response.status))
        if response.status != 200:
            log.warning(
                "response_url post refused",
                extra={"status": response.status, "body": response.body[:200]},
            )
            return False
        return True

    def close(self) -> None:
        self._hooks.close()

    def post(
        self, channel: str, message: dict[str, Any], *, thread_ts: str | None = None
    ) -> PostResult:
        return self._web_api(
            "chat.postMessage",
            channel,
            lambda: self._client.chat_postMessage(
                channel=channel,
                text=message["text"],
                blocks=message.get("blocks"),
                thread_ts=thread_ts,
                unfurl_links=False,
                unfurl_media=False,
            ),
        )

    def unfurl(
        self,
        unfurls: dict[str, dict[str, Any]],
        *,
        channel: str | None = None,
        ts: str | None = None,
        unfurl_id: str | None = None,
        source: str | None = None,
    ) -> PostResult:
        """chat.unfurl for a posted message (`channel` + `ts`) or a link in the composer
        (`unfurl_id` + `source`), `unfurls` keyed by each exact URL."""
        return self._web_api(
            "chat.unfurl",
            channel or "",
            lambda: self._client.chat_unfurl(
                channel=channel, ts=ts, unfurl_id=unfurl_id, source=source, unfurls=unfurls
            ),
        )

    def open_dm(self, user_id: str) -> PostResult:
        """The bot's DM channel with a person (conversations.open, scope im:write), as `ts`-less
        PostResult whose `channel` is set on success."""
        try:
            response = self._client.conversations_open(users=user_id)
        except SlackApiError as exc:
            failed = _api_error(exc)
            log.info("conversations.open refused", extra={"error": failed.error})
            return failed
        except (SlackClientError, OSError) as exc:
            log.warning("conversations.open failed", extra={"error": type(exc).__name__})
            return _request_failed(exc)
        channel = response.get("channel")
        channel_id = channel.get("id") if isinstance(channel, dict) else None
        if not isinstance(channel_id, str) or not channel_id:
            return PostResult(ok=False, error="no_channel")
        return PostResult(ok=True, channel=channel_id)

    def update(self, channel: str, ts: str, message: dict[str, Any]) -> PostResult:
        return self._web_api(
            "chat.update",
            channel,
            lambda: self._client.chat_update(
                channel=channel, ts=ts, text=message["text"], blocks=message.get("blocks")
            ),
        )

    def permalink(self, channel: str, ts: str) -> str | None:
        """A link to a message (chat.getPermalink), or None when Slack would not give one."""
        try:
            response = self._client.chat_getPermalink(channel=channel, message_ts=ts)
        except SlackApiError:
            return None
        except (SlackClientError, OSError) as exc:
            log.warning("chat.getPermalink failed", extra={"error": type(exc).__name__})
            return None
        link = response.get("permalink")
        return link if isinstance(link, str) and link else None

    def views_open(self, trigger_id: str, view: dict[str, Any]) -> ViewResult:
        """Open a modal; the trigger is good for 3 s after the person acted."""
        return self._view_call(
            "views.open", lambda: self._client.views_open(trigger_id=trigger_id, view=view)
        )

    def views_update(
        self, view_id: str, view: dict[str, Any], *, hash: str | None = None
    ) -> ViewResult:
        """Redraw an open modal; with `hash`, Slack refuses if it changed since (hash_conflict)."""
        return self._view_call(
            "views.update", lambda: self._client.views_update(view_id=view_id, view=view, hash=hash)
        )

    def views_publish(
        self, user_id: str, view: dict[str, Any], *, hash: str | None = None
    ) -> ViewResult:
        return self._view_call(
            "views.publish",
            lambda: self._client.views_publish(user_id=user_id, view=view, hash=hash),
        )

    def finish_step(self, method: str, call: Callable[[], SlackResponse]) -> bool:
        """End a workflow step with Bolt's `complete`/`fail`, which carry the client Bolt
        injected for the execution (the workflow's own token); never raises."""
        try:
            return self._web_api(method, "", call).ok
        except ValueError:
            # Bolt's complete/fail refuse outside a function execution (no execution id).
            log.warning(f"{method} not sent: no function execution to finish")
            return False

    def _view_call(self, method: str, call: Callable[[], SlackResponse]) -> ViewResult:
        try:
            response = call()
        except SlackApiError as exc:
            error = str(exc.response.get("error") or "unknown_error")
            log.info(f"{method} refused", extra={"error": error})
            return ViewResult(ok=False, error=error)
        except (SlackClientError, OSError) as exc:
            log.warning(f"{method} failed", extra={"error": type(exc).__name__})
            return ViewResult(ok=False, error="request_failed")
        view = response.get("view")
        view = view if isinstance(view, dict) else {}
        return ViewResult(ok=True, view_id=view.get("id"), hash=view.get("hash"))

    def _web_api(self, method: str, channel: str, call: Callable[[], SlackResponse]) -> PostResult:
        try:
            response = call()
        except SlackApiError as exc:
            failed = _api_error(exc)
            log.info(
                f"{method} refused",
                extra={"error": failed.error, "channel": channel, "status": failed.fate},
            )
            return failed
        except (SlackClientError, OSError) as exc:
            log.warning(f"{method} failed", extra={"error": type(exc).__name__})
            return _request_failed(exc)
        return PostResult(ok=True, ts=str(response.get("ts") or "") or None)


def _not_counted(method: str, outcome: str) -> None:
    return None


def _hook_outcome(status: int) -> str:
    if status == 200:
        return "ok"
    return "rate_limited" if status == 429 else "error"


def _api_error(exc: SlackApiError) -> PostResult:
    """Slack answered, but not ok: a refusal, or (429, 5xx) a "not now"."""
    response = exc.response
    error = str(response.get("error") or "unknown_error")
    if response.status_code in NOT_DONE_STATUSES or error in NOT_DONE_ERRORS:
        return PostResult(
            ok=False, error=error, fate=Fate.NOT_DONE, retry_after=_retry_after(response.headers)
        )
    if response.status_code >= 500:
        # 504 and the like: a gateway gave up waiting, and Slack may still have acted.
        return PostResult(ok=False, error=error, fate=Fate.UNKNOWN)
    return PostResult(ok=False, error=error, fate=Fate.REFUSED)


def _request_failed(exc: Exception) -> PostResult:
    # urllib raises URLError only while connecting and sending; a timeout or a dropped
    # connection while waiting for the answer comes as the bare OSError.
    fate = Fate.NOT_DONE if isinstance(exc, URLError) else Fate.UNKNOWN
    return PostResult(ok=False, error="request_failed", fate=fate)


def _retry_after(headers: Any) -> float | None:
    if not isinstance(headers, dict):
        return None
    for name, value in headers.items():
        if str(name).lower() == "retry-after":
            raw = value[0] if isinstance(value, list | tuple) and value else value
            try:
                return max(0.0, float(str(raw)))
            except ValueError:
                return None
    return None
