"""What can go wrong when asking e签宝, as errors a caller can act on and a user can read.

Every error carries a short `title` and a plain-words `detail` meant for the person in Slack.
None of them ever contains a secret: they are built from e签宝's answer and our own words only.
"""

from __future__ import annotations


class EsignError(Exception):
    """Base of every failure of an outline lookup."""

    title = "e签宝 lookup failed"
    #: Whether asking again soon could succeed (drives retries and the circuit breaker).
    transient = False

    def __init__(self, detail: str, *, code: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code

    def __str__(self) -> str:
        return f"{self.title} (code {self.code}): {self.detail}" if self.code else self.detail


class InvalidFlowId(EsignError):
    """The id cannot be an e签宝 flow id (user input, refused before any call).

    An EsignError all the same: the lookup refuses it at the same door as e签宝's own "no such
    flow", and the person gets it on the same error card, so callers catch one base class.
    It is never transient, so it neither retries nor trips the circuit breaker.
    """

    title = "Not a valid flow id"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)


class FlowNotFound(EsignError):
    title = "Flow not found"

    def __init__(self, flow_id: str, *, code: int, message: str) -> None:
        super().__init__(
            f"e签宝 has no verification flow {flow_id} for this app ({message}). "
            "Check the id, and that it was created with this app in this environment.",
            code=code,
        )
        self.flow_id = flow_id
        self.esign_message = message


class GatewayRejected(EsignError):
    """e签宝's gateway refused the request before it reached the identity service (401/403)."""

    title = "e签宝 rejected the bot's credentials"

    def __init__(self, status: int, reason: str, hint: str) -> None:
        super().__init__(f"HTTP {status} {reason}. {hint}".strip())
        self.status = status
        self.reason = reason
        self.hint = hint


class RateLimited(EsignError):
    title = "e签宝 is rate limiting the bot"
    transient = True

    def __init__(self, detail: str, *, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class EsignUnavailable(EsignError):
    """Timeouts, connection failures, 5xx answers and bodies that are not e签宝's JSON."""

    title = "e签宝 is not answering"
    transient = True

    def __init__(self, detail: str, *, retryable: bool = False) -> None:
        super().__init__(detail)
        #: Worth another attempt within the same lookup (connection errors, timeouts, 502-504).
        self.retryable = retryable


class CircuitOpen(EsignUnavailable):
    """Recent calls kept failing, so the bot answers at once instead of queueing timeouts."""


class UnexpectedResponse(EsignError):
    """e签宝 answered 200 with JSON the bot cannot read as an outline."""

    title = "e签宝 sent an answer the bot cannot read"


class EsignBusinessError(EsignError):
    """Any other non-zero `code` from the identity service."""

    title = "e签宝 returned an error"

    def __init__(self, *, code: int, message: str) -> None:
        super().__init__(message or "no message", code=code)
        self.esign_message = message


#: Hints for the gateway's documented 401/403 reasons: what the operator should fix.
GATEWAY_HINTS: dict[str, str] = {
    "INVALID_TIMESTAMP": "The bot's clock is off by more than 15 minutes: check NTP on its host.",
    "无效的应用": (
        "The app id is unknown to this e签宝 environment: check ESIGN_APP_ID against ESIGN_ENV "
        "(sandbox app ids do not work in production and vice versa)."
    ),
    "INVALID_SIGNATURE": "The signature did not verify: check ESIGN_APP_SECRET.",
    "AUTHSTRATEGY_NOT_FOUND": "The auth mode header was refused: check ESIGN_AUTH_MODE.",
    "缺少参数": "A required header was missing: check ESIGN_APP_ID is set.",
    "TOKEN错误": "The access token was refused: check ESIGN_APP_ID and ESIGN_APP_SECRET.",
    "IP白名单不匹配": "This host's IP is not on the app's allow-list in the e签宝 console.",
}


def gateway_hint(reason: str) -> str:
    for key, hint in GATEWAY_HINTS.items():
        if key in reason:
            return hint
    return "Check ESIGN_APP_ID, ESIGN_APP_SECRET and ESIGN_ENV."
