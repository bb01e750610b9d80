"""Whether Slack accepts the bot token, checked at start without letting Slack's absence stop it.

Bolt calls auth.test when an App is built and raises if Slack refuses the token or cannot be
reached. In a granian worker (respawned when it dies) that was a crash loop of tracebacks for a
refused token, and a Slack blip during a deploy took the bot down. So:

- the starting process asks Slack once (`check_bot_token`): a refusal ends the start with one
  line naming SLACK_BOT_TOKEN (`refusal_line`); an unreachable Slack does not stop it;
- each serving process builds Bolt's App without Slack, handing it `SlackPresence.authorize`,
  and learns who the bot is (auth.test) in the background, retrying with backoff while Slack is
  away. Requests are served meanwhile: Slack's signature needs only the signing secret.
"""

from __future__ import annotations

import http.client
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

from slack_bolt.authorization import AuthorizeResult
from slack_sdk.errors import SlackApiError

from bot.slack.web_client import CallObserver, CountedWebClient

log = logging.getLogger(__name__)
#: slack_sdk logs every failed call as an error; while Slack is away that would be one line per
#: retry, and this module already says it once.
_quiet_client_log = logging.getLogger(f"{__name__}.client")
_quiet_client_log.setLevel(logging.CRITICAL)

Outcome = Literal["ok", "refused", "unreachable"]
#: auth.test answers that say Slack is having trouble, not that the token is wrong.
TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "request_timeout", "service_unavailable", "fatal_error", "internal_error"}
)
#: One auth.test at start: long enough for a slow network, short enough not to stall a deploy.
CHECK_TIMEOUT_SECONDS = 5.0
FIRST_RETRY_SECONDS = 0.5
UNREACHABLE = "Slack is unreachable (%s): staying up, and checking again every %s s at most"
_ERROR_CODE = re.compile(r"[a-z0-9_]{1,64}")
BACK = "Slack answers again: the bot token works"


@dataclass(frozen=True, slots=True)
class BotIdentity:
    """Who the token says the bot is (auth.test), as Bolt needs it to ignore its own events."""

    team_id: str | None
    enterprise_id: str | None
    bot_id: str | None
    bot_user_id: str | None


@dataclass(frozen=True, slots=True)
class TokenCheck:
    outcome: Outcome
    #: Slack's error code when refused; what went wrong on the way when unreachable.
    detail: str = ""
    identity: BotIdentity | None = None


def check_bot_token(
    api_url: str,
    token: str,
    timeout: float = CHECK_TIMEOUT_SECONDS,
    *,
    on_call: CallObserver | None = None,
) -> TokenCheck:
    """Ask Slack once (no retries) whether it accepts `token`; `on_call` counts the call."""
    client = CountedWebClient(
        on_call=on_call,
        token=token,
        base_url=api_url,
        timeout=int(max(timeout, 1)),
        retry_handlers=[],
        logger=_quiet_client_log,
    )
    try:
        answer = client.auth_test()
    except SlackApiError as exc:
        status = exc.response.status_code
        data = exc.response.data
        error = data.get("error") if isinstance(data, dict) else None
        if not (isinstance(error, str) and _ERROR_CODE.fullmatch(error)):
            error = None  # not Slack's answer (slack_sdk's note on a proxy's HTML page, say)
        if status >= 500 or status == 429 or not error or error in TRANSIENT_ERRORS:
            return TokenCheck("unreachable", f"HTTP {status}" + (f", {error}" if error else ""))
        return TokenCheck("refused", str(error))
    except (OSError, http.client.HTTPException, ValueError) as exc:
        # URLError (connection refused, DNS failure) and timeouts are OSErrors.
        return TokenCheck("unreachable", _reason(exc))
    return TokenCheck(
        "ok",
        identity=BotIdentity(
            team_id=answer.get("team_id"),
            enterprise_id=answer.get("enterprise_id"),
            bot_id=answer.get("bot_id"),
            bot_user_id=answer.get("user_id"),
        ),
    )


def refusal_line(error: str) -> str:
    """The one line a refused token gets: the setting, Slack's error, and where the right one is."""
    return (
        f"SLACK_BOT_TOKEN was refused by Slack ({error}): it must be the app's Bot User OAuth "
        "Token (xoxb-…) from its OAuth & Permissions page."
    )


def await_slack(api_url: str, token: str, *, recheck_seconds: float) -> TokenCheck:
    """Ask Slack until it answers, accepting or refusing the token; says once that it is away.

    For a process that can do nothing without Slack (the Socket Mode worker): it stays up and
    waits instead of dying, so a Slack blip during a deploy does not take the bot down.
    """
    check = check_bot_token(api_url, token)
    if check.outcome != "unreachable":
        return check
    log.warning(UNREACHABLE, check.detail, recheck_seconds)
    delays = recheck_delays(recheck_seconds)
    while check.outcome == "unreachable":
        time.sleep(next(delays))
        check = check_bot_token(api_url, token)
    if check.outcome == "ok":
        log.info(BACK)
    return check


def recheck_delays(most: float) -> Iterator[float]:
    """Waits between checks while Slack is away: doubling from FIRST_RETRY_SECONDS to `most`."""
    delay = min(FIRST_RETRY_SECONDS, most)
    while True:
        yield delay
        delay = min(delay * 2, most)


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)  # URLError wraps the socket error
    cause = reason if isinstance(reason, BaseException) else exc
    return f"{type(cause).__name__}: {cause}" if str(cause) else type(cause).__name__


class SlackPresence:
    """Whether Slack answers the bot, and who the bot is, kept current from a background thread.

    `status()` is "ok", "unreachable" (checking again with backoff, up to `recheck_seconds`
    apart) or "refused" (the token stopped working: said once, not retried).
    """

    def __init__(
        self,
        api_url: str,
        token: str,
        *,
        recheck_seconds: float,
        on_call: CallObserver | None = None,
    ) -> None:
        self._api_url = api_url
        self._on_call = on_call
        self._token = token
        self._recheck = recheck_seconds
        self._stop = threading.Event()
        self._check = TokenCheck("unreachable", "not checked yet")
        self._thread: threading.Thread | None = None

    def start(self, timeout: float = CHECK_TIMEOUT_SECONDS) -> SlackPresence:
        """Ask Slack once now; while it does not answer, keep asking in the background."""
        self._record(check_bot_token(self._api_url, self._token, timeout, on_call=self._on_call))
        if self._check.outcome == "unreachable":
            self._thread = threading.Thread(target=self._retry, name="slack-presence", daemon=True)
            self._thread.start()
        return self

    def status(self) -> Outcome:
        return self._check.outcome

    def bolt_authorize(self) -> Callable[..., AuthorizeResult]:
        """Bolt's `authorize`: the bot's token, and its ids once Slack has told them.

        A plain function: Bolt passes arguments by the names in its signature (no `self`).
        """

        def authorize(
            enterprise_id: str | None, team_id: str | None, user_id: str | None
        ) -> AuthorizeResult:
            who = self._check.identity or BotIdentity(None, None, None, None)
            return AuthorizeResult(
                enterprise_id=enterprise_id or who.enterprise_id,
                team_id=team_id or who.team_id,
                bot_token=self._token,
                bot_id=who.bot_id,
                bot_user_id=who.bot_user_id,
                user_id=user_id,
            )

        return authorize

    def close(self) -> None:
        self._stop.set()

    def _retry(self) -> None:
        for delay in recheck_delays(self._recheck):
            if self._stop.wait(delay):
                return
            self._record(check_bot_token(self._api_url, self._token, on_call=self._on_call))
            if self._check.outcome != "unreachable":
                return

    def _record(self, check: TokenCheck) -> None:
        self._check = check
        if check.outcome == "refused":
            log.error(refusal_line(check.detail))
        elif check.outcome == "unreachable" and self._thread is None:
            log.warning(UNREACHABLE, check.detail, self._recheck)
        elif check.outcome == "ok" and self._thread is not None:
            log.info(BACK)
