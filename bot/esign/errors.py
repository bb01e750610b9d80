"""What can go wrong when asking e签宝, as errors a caller can act on.

Each error carries facts (a reason, the flow id, HTTP status, e签宝's own code and message, a
retry-after…), never sentences for people: bot/cards/esign_errors.py puts those facts into
words, in English and 中文, since this package knows nothing of Slack or its readers.
`detail` and `str(error)` are English lines for operators (logs). None of it ever holds a
secret: it is built from e签宝's answer and our own facts only.
"""

from __future__ import annotations

from enum import StrEnum


class EsignError(Exception):
    """Base of every failure of an outline lookup."""

    #: A label for log lines (the card's title comes from bot/cards).
    title = "e签宝 lookup failed"
    #: Whether asking again soon could succeed (drives retries and the circuit breaker).
    transient = False

    def __init__(self, detail: str = "", *, code: int | None = None) -> None:
        super().__init__(detail)
        #: English, for the logs.
        self.detail = detail
        self.code = code

    def __str__(self) -> str:
        return f"{self.title} (code {self.code}): {self.detail}" if self.code else self.detail


class InvalidFlowIdReason(StrEnum):
    NOT_TEXT = "not_text"
    EMPTY = "empty"
    TOO_LONG = "too_long"
    BAD_CHARACTERS = "bad_characters"


class InvalidFlowId(EsignError):
    """The id cannot be an e签宝 flow id (user input, refused before any call).

    An EsignError all the same: the lookup refuses it at the same door as e签宝's own "no such
    flow", and the person gets it on the same error card, so callers catch one base class.
    It is never transient, so it neither retries nor trips the circuit breaker.
    """

    title = "Not a valid flow id"
    #: Class-level defaults: an error rebuilt from an older encoding still has them.
    reason = InvalidFlowIdReason.BAD_CHARACTERS
    length: int | None = None
    max_length: int | None = None

    def __init__(
        self,
        reason: InvalidFlowIdReason,
        *,
        length: int | None = None,
        max_length: int | None = None,
    ) -> None:
        super().__init__(_INVALID_FLOW_ID_LOG[reason].format(length=length, max_length=max_length))
        self.reason = reason
        self.length = length
        self.max_length = max_length


_INVALID_FLOW_ID_LOG: dict[InvalidFlowIdReason, str] = {
    InvalidFlowIdReason.NOT_TEXT: "flow id is not text",
    InvalidFlowIdReason.EMPTY: "no flow id given",
    InvalidFlowIdReason.TOO_LONG: "flow id has {length} characters, over {max_length}",
    InvalidFlowIdReason.BAD_CHARACTERS: "flow id is not 6 to 64 ASCII digits and letters",
}


class FlowNotFound(EsignError):
    title = "Flow not found"
    flow_id = ""
    esign_message = ""

    def __init__(self, flow_id: str, *, code: int, message: str) -> None:
        super().__init__(f"no verification flow {flow_id} for this app ({message})", code=code)
        self.flow_id = flow_id
        #: e签宝's own words (usually 中文), quoted as they are.
        self.esign_message = message


class GatewayProblem(StrEnum):
    """What the gateway's 401/403 reason says the operator should fix."""

    CLOCK = "clock"
    UNKNOWN_APP = "unknown_app"
    SIGNATURE = "signature"
    AUTH_MODE = "auth_mode"
    MISSING_HEADER = "missing_header"
    TOKEN = "token"  # noqa: S105 (names a refused token, holds none)
    IP_ALLOW_LIST = "ip_allow_list"
    OTHER = "other"


class GatewayRejected(EsignError):
    """e签宝's gateway refused the request before it reached the identity service (401/403)."""

    title = "e签宝 rejected the bot's credentials"
    status = 0
    reason = ""
    problem = GatewayProblem.OTHER
    hint = ""

    def __init__(self, status: int, reason: str) -> None:
        problem = gateway_problem(reason)
        hint = GATEWAY_HINTS[problem]
        super().__init__(f"HTTP {status} {reason}. {hint}".strip())
        self.status = status
        #: The gateway's own reason (its words, quoted as they are).
        self.reason = reason
        self.problem = problem
        #: What to fix, in English for the logs; cards say it from `problem`.
        self.hint = hint


class RateLimitSource(StrEnum):
    #: e签宝 answered 429.
    ESIGN = "esign"
    #: The bot's own pacing (this process's bucket or the budget shared by all) said wait.
    PACING = "pacing"


class RateLimited(EsignError):
    title = "e签宝 is rate limiting the bot"
    transient = True
    source = RateLimitSource.ESIGN
    retry_after: float | None = None

    def __init__(
        self, source: RateLimitSource = RateLimitSource.ESIGN, *, retry_after: float | None = None
    ) -> None:
        wait = "" if retry_after is None else f"; retry after {retry_after:.1f} s"
        super().__init__(
            ("pacing calls to e签宝" if source is RateLimitSource.PACING else "e签宝 answered 429")
            + wait
        )
        self.source = source
        self.retry_after = retry_after


class UnavailableReason(StrEnum):
    TIMEOUT = "timeout"
    UNREACHABLE = "unreachable"
    HTTP_STATUS = "http_status"
    NOT_JSON = "not_json"
    TOKEN_ENDPOINT = "token_endpoint"  # noqa: S105 (names an endpoint, holds no token)
    CIRCUIT_OPEN = "circuit_open"


class EsignUnavailable(EsignError):
    """Timeouts, connection failures, 5xx answers and bodies that are not e签宝's JSON."""

    title = "e签宝 is not answering"
    transient = True
    reason = UnavailableReason.TIMEOUT
    status: int | None = None
    #: The transport error's class name, for an unreachable e签宝.
    error_name: str | None = None
    #: Seconds until the circuit breaker lets a call through again.
    retry_in: int | None = None

    def __init__(
        self,
        reason: UnavailableReason = UnavailableReason.TIMEOUT,
        *,
        retryable: bool = False,
        status: int | None = None,
        error_name: str | None = None,
        retry_in: int | None = None,
    ) -> None:
        super().__init__(
            _UNAVAILABLE_LOG[reason].format(status=status, error=error_name, retry_in=retry_in)
        )
        self.reason = reason
        #: Worth another attempt within the same lookup (connection errors, timeouts, 502-504).
        self.retryable = retryable
        self.status = status
        self.error_name = error_name
        self.retry_in = retry_in


_UNAVAILABLE_LOG: dict[UnavailableReason, str] = {
    UnavailableReason.TIMEOUT: "e签宝 did not answer in time",
    UnavailableReason.UNREACHABLE: "could not reach e签宝 ({error})",
    UnavailableReason.HTTP_STATUS: "e签宝 answered HTTP {status}",
    UnavailableReason.NOT_JSON: "e签宝's answer was not JSON",
    UnavailableReason.TOKEN_ENDPOINT: "e签宝's token endpoint answered HTTP {status}",
    UnavailableReason.CIRCUIT_OPEN: "circuit open: not asking e签宝, retry in about {retry_in} s",
}


class CircuitOpen(EsignUnavailable):
    """Recent calls kept failing, so the bot answers at once instead of queueing timeouts."""

    reason = UnavailableReason.CIRCUIT_OPEN

    def __init__(self, retry_in: int) -> None:
        super().__init__(UnavailableReason.CIRCUIT_OPEN, retry_in=retry_in)


class UnexpectedReason(StrEnum):
    NO_CODE = "no_code"
    NO_DATA = "no_data"
    BAD_SHAPE = "bad_shape"
    TOO_LARGE = "too_large"
    HTTP_STATUS = "http_status"


class UnexpectedResponse(EsignError):
    """e签宝 answered with something the bot cannot read as an outline."""

    title = "e签宝 sent an answer the bot cannot read"
    reason = UnexpectedReason.BAD_SHAPE
    status: int | None = None
    #: How many fields failed validation, for a bad shape.
    problems: int | None = None

    def __init__(
        self, reason: UnexpectedReason, *, status: int | None = None, problems: int | None = None
    ) -> None:
        super().__init__(_UNEXPECTED_LOG[reason].format(status=status, problems=problems))
        self.reason = reason
        self.status = status
        self.problems = problems


_UNEXPECTED_LOG: dict[UnexpectedReason, str] = {
    UnexpectedReason.NO_CODE: "the answer has no numeric code",
    UnexpectedReason.NO_DATA: "the answer has no outline data object",
    UnexpectedReason.BAD_SHAPE: (
        "the outline does not have the documented shape ({problems} problems)"
    ),
    UnexpectedReason.TOO_LARGE: "e签宝's answer is far larger than an outline can be",
    UnexpectedReason.HTTP_STATUS: "e签宝 answered HTTP {status} for the outline",
}


class EsignBusinessError(EsignError):
    """Any other non-zero `code` from the identity service."""

    title = "e签宝 returned an error"
    esign_message = ""

    def __init__(self, *, code: int, message: str) -> None:
        super().__init__(message or "no message", code=code)
        #: e签宝's own words, quoted as they are.
        self.esign_message = message


#: How the gateway's documented 401/403 reasons map to what is wrong, checked in order.
_GATEWAY_REASONS: tuple[tuple[str, GatewayProblem], ...] = (
    ("INVALID_TIMESTAMP", GatewayProblem.CLOCK),
    ("无效的应用", GatewayProblem.UNKNOWN_APP),
    ("INVALID_SIGNATURE", GatewayProblem.SIGNATURE),
    ("AUTHSTRATEGY_NOT_FOUND", GatewayProblem.AUTH_MODE),
    ("缺少参数", GatewayProblem.MISSING_HEADER),
    ("TOKEN错误", GatewayProblem.TOKEN),
    ("IP白名单不匹配", GatewayProblem.IP_ALLOW_LIST),
)

#: What the operator should fix, for the logs (English: operators read them).
GATEWAY_HINTS: dict[GatewayProblem, str] = {
    GatewayProblem.CLOCK: "The bot's clock is off by more than 15 minutes: check NTP on its host.",
    GatewayProblem.UNKNOWN_APP: (
        "The app id is unknown to this e签宝 environment: check ESIGN_APP_ID against ESIGN_ENV "
        "(sandbox app ids do not work in production and vice versa)."
    ),
    GatewayProblem.SIGNATURE: "The signature did not verify: check ESIGN_APP_SECRET.",
    GatewayProblem.AUTH_MODE: "The auth mode header was refused: check ESIGN_AUTH_MODE.",
    GatewayProblem.MISSING_HEADER: "A required header was missing: check ESIGN_APP_ID is set.",
    GatewayProblem.TOKEN: (
        "The access token was refused: check ESIGN_APP_ID and ESIGN_APP_SECRET."
    ),
    GatewayProblem.IP_ALLOW_LIST: (
        "This host's IP is not on the app's allow-list in the e签宝 console."
    ),
    GatewayProblem.OTHER: "Check ESIGN_APP_ID, ESIGN_APP_SECRET and ESIGN_ENV.",
}


def gateway_problem(reason: str) -> GatewayProblem:
    for key, problem in _GATEWAY_REASONS:
        if key in reason:
            return problem
    return GatewayProblem.OTHER


def gateway_hint(reason: str) -> str:
    """The operator's hint for a gateway reason (English, for logs and start-up checks)."""
    return GATEWAY_HINTS[gateway_problem(reason)]
