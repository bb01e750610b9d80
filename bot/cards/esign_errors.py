"""A failed e签宝 lookup in words, English and 中文, from the facts the error carries.

bot/esign knows nothing of its readers, so its errors carry facts (a reason, the flow id, an
HTTP status, e签宝's own code and message…) and every sentence a person reads is here.
e签宝's own message and the gateway's reason are quoted as they are, in both languages: they
are e签宝's words, not ours, and support staff search for them verbatim.
"""

from __future__ import annotations

from typing import Final

from bot.esign.errors import (
    EsignBusinessError,
    EsignError,
    EsignUnavailable,
    FlowNotFound,
    GatewayProblem,
    GatewayRejected,
    InvalidFlowId,
    InvalidFlowIdReason,
    RateLimited,
    RateLimitSource,
    UnavailableReason,
    UnexpectedReason,
    UnexpectedResponse,
)

#: (English, 中文).
Words = tuple[str, str]

# Checked in order, so a subclass (CircuitOpen under EsignUnavailable) may share its parent's.
_EMOJI: Final[tuple[tuple[type[EsignError], str], ...]] = (
    (FlowNotFound, ":mag:"),
    (InvalidFlowId, ":pencil2:"),
    (GatewayRejected, ":lock:"),
    (RateLimited, ":snail:"),
    (EsignUnavailable, ":electric_plug:"),
)
DEFAULT_EMOJI: Final = ":warning:"

_TITLES: Final[tuple[tuple[type[EsignError], Words], ...]] = (
    (FlowNotFound, ("Flow not found", "找不到该流程")),
    (InvalidFlowId, ("Not a valid flow id", "不是有效的流程 ID")),
    (GatewayRejected, ("e签宝 rejected the bot's credentials", "e签宝 拒绝了机器人的凭证")),
    (RateLimited, ("e签宝 is rate limiting the bot", "e签宝 正在限流")),
    (EsignUnavailable, ("e签宝 is not answering", "e签宝 暂时没有响应")),
    (UnexpectedResponse, ("e签宝 sent an answer the bot cannot read", "e签宝 的回复无法解读")),
    (EsignBusinessError, ("e签宝 returned an error", "e签宝 返回了错误")),
)
DEFAULT_TITLE: Final[Words] = ("e签宝 lookup failed", "e签宝 查询失败")
EXAMPLE_FLOW_ID: Final = "803719636976683872"


def error_emoji(error: EsignError) -> str:
    return next((emoji for kind, emoji in _EMOJI if isinstance(error, kind)), DEFAULT_EMOJI)


def error_title(error: EsignError) -> Words:
    return next((words for kind, words in _TITLES if isinstance(error, kind)), DEFAULT_TITLE)


def error_detail(error: EsignError) -> Words:
    """What went wrong and what to do, chosen by the error's type and its facts."""
    # CircuitOpen needs no branch of its own: it is an EsignUnavailable with its own reason.
    if isinstance(error, InvalidFlowId):
        return _invalid_flow_id(error)
    if isinstance(error, FlowNotFound):
        return _flow_not_found(error)
    if isinstance(error, GatewayRejected):
        return _gateway_rejected(error)
    if isinstance(error, RateLimited):
        return _rate_limited(error)
    if isinstance(error, EsignUnavailable):
        return _unavailable(error)
    if isinstance(error, UnexpectedResponse):
        return _unexpected(error)
    if isinstance(error, EsignBusinessError):
        return _business(error)
    return ("Something went wrong while asking e签宝.", "向 e签宝 查询时出错。")


def _invalid_flow_id(error: InvalidFlowId) -> Words:
    if error.reason == InvalidFlowIdReason.NOT_TEXT:
        return ("A flow id must be text.", "流程 ID 必须是文本。")
    if error.reason == InvalidFlowIdReason.EMPTY:
        return ("No flow id given.", "没有提供流程 ID。")
    if error.reason == InvalidFlowIdReason.TOO_LONG and error.length and error.max_length:
        return (
            f"A flow id has at most {error.max_length} characters; this one has {error.length}.",
            f"流程 ID 最多 {error.max_length} 个字符，这个有 {error.length} 个。",
        )
    return (
        f"A flow id is a long number such as {EXAMPLE_FLOW_ID} "
        "(ASCII digits and letters only, 6 to 64 characters).",
        f"流程 ID 是一串长数字，例如 {EXAMPLE_FLOW_ID}（只能是半角数字和字母，6 到 64 个字符）。",
    )


def _flow_not_found(error: FlowNotFound) -> Words:
    said_en = f" ({error.esign_message})" if error.esign_message else ""
    said_zh = f"（{error.esign_message}）" if error.esign_message else ""
    return (
        f"e签宝 has no verification flow {error.flow_id} for this app{said_en}. "
        "Check the id, and that it was created with this app in this environment.",
        f"e签宝 中没有本应用的认证流程 {error.flow_id}{said_zh}。"
        "请检查 ID，并确认该流程是由本应用在当前环境中创建的。",
    )


#: What the operator should fix for each of the gateway's refusals.
_GATEWAY_FIXES: Final[dict[GatewayProblem, Words]] = {
    GatewayProblem.CLOCK: (
        "The bot's clock is off by more than 15 minutes: check NTP on its host.",
        "机器人所在主机的时钟偏差超过 15 分钟：请检查该主机的 NTP 时间同步。",
    ),
    GatewayProblem.UNKNOWN_APP: (
        "The app id is unknown to this e签宝 environment: check ESIGN_APP_ID against ESIGN_ENV "
        "(sandbox app ids do not work in production and vice versa).",
        "当前 e签宝 环境中没有这个应用 ID：请核对 ESIGN_APP_ID 与 ESIGN_ENV"
        "（沙箱环境的应用 ID 不能用于正式环境，反之亦然）。",
    ),
    GatewayProblem.SIGNATURE: (
        "The signature did not verify: check ESIGN_APP_SECRET.",
        "签名校验未通过：请检查 ESIGN_APP_SECRET。",
    ),
    GatewayProblem.AUTH_MODE: (
        "The auth mode header was refused: check ESIGN_AUTH_MODE.",
        "鉴权方式请求头被拒绝：请检查 ESIGN_AUTH_MODE。",
    ),
    GatewayProblem.MISSING_HEADER: (
        "A required header was missing: check ESIGN_APP_ID is set.",
        "缺少必需的请求头：请确认已设置 ESIGN_APP_ID。",
    ),
    GatewayProblem.TOKEN: (
        "The access token was refused: check ESIGN_APP_ID and ESIGN_APP_SECRET.",
        "访问令牌被拒绝：请检查 ESIGN_APP_ID 和 ESIGN_APP_SECRET。",
    ),
    GatewayProblem.IP_ALLOW_LIST: (
        "This host's IP is not on the app's allow-list in the e签宝 console.",
        "本机 IP 不在 e签宝 控制台中该应用的 IP 白名单里。",
    ),
}
_GATEWAY_OTHER: Final[Words] = (
    "Check ESIGN_APP_ID, ESIGN_APP_SECRET and ESIGN_ENV.",
    "请检查 ESIGN_APP_ID、ESIGN_APP_SECRET 和 ESIGN_ENV。",
)


def _gateway_rejected(error: GatewayRejected) -> Words:
    en, zh = _GATEWAY_FIXES.get(error.problem, _GATEWAY_OTHER)
    said = f"HTTP {error.status} {error.reason}".strip()
    return (f"{said}. {en}", f"{said}。{zh}")


def _rate_limited(error: RateLimited) -> Words:
    wait = round(error.retry_after) if error.retry_after else 0
    later = (
        (f"Try again in about {wait} s.", f"请约 {wait} 秒后再试。")
        if wait >= 2
        else ("Try again in a few seconds.", "请过几秒再试。")
    )
    if error.source == RateLimitSource.PACING:
        return (
            f"Many lookups are running at once, so the bot is pacing its calls to e签宝. "
            f"{later[0]}",
            f"同时进行的查询太多，机器人正在放慢调用 e签宝 的速度。{later[1]}",
        )
    return (
        f"e签宝 is refusing calls for a moment (rate limit). {later[0]}",
        f"e签宝 暂时拒绝调用（限流）。{later[1]}",
    )


def _unavailable(error: EsignUnavailable) -> Words:
    reason, status = error.reason, error.status
    if reason == UnavailableReason.CIRCUIT_OPEN:
        wait = error.retry_in or 1
        return (
            "e签宝 has not been answering, so the bot is not asking it for a moment. "
            f"Try again in about {wait} s.",
            f"e签宝 一直没有响应，机器人暂时不再向它查询。请约 {wait} 秒后再试。",
        )
    if reason == UnavailableReason.UNREACHABLE:
        name = f" ({error.error_name})" if error.error_name else ""
        name_zh = f"（{error.error_name}）" if error.error_name else ""
        return (f"Could not reach e签宝{name}.", f"无法连接 e签宝{name_zh}。")
    if reason == UnavailableReason.HTTP_STATUS and status is not None:
        return (f"e签宝 answered HTTP {status}.", f"e签宝 返回了 HTTP {status}。")
    if reason == UnavailableReason.TOKEN_ENDPOINT and status is not None:
        return (
            f"e签宝's token endpoint answered HTTP {status}.",
            f"e签宝 的令牌接口返回了 HTTP {status}。",
        )
    if reason == UnavailableReason.NOT_JSON:
        return ("e签宝's answer was not the JSON it should be.", "e签宝 的回复不是应有的 JSON。")
    return ("e签宝 did not answer in time.", "e签宝 没有及时响应。")


def _unexpected(error: UnexpectedResponse) -> Words:
    reason = error.reason
    if reason == UnexpectedReason.NO_CODE:
        return ('The answer has no numeric "code".', "回复中没有数字类型的 code 字段。")
    if reason == UnexpectedReason.NO_DATA:
        return ('The answer has no outline "data" object.', "回复中没有流程概要的 data 对象。")
    if reason == UnexpectedReason.TOO_LARGE:
        return (
            "e签宝's answer is far larger than an outline can be.",
            "e签宝 的回复远远超出流程概要应有的大小。",
        )
    if reason == UnexpectedReason.HTTP_STATUS and error.status is not None:
        return (
            f"e签宝 answered HTTP {error.status} for the outline.",
            f"查询流程概要时，e签宝 返回了 HTTP {error.status}。",
        )
    count_en = f" ({error.problems} problems)" if error.problems is not None else ""
    count_zh = f"（{error.problems} 处不符）" if error.problems is not None else ""
    return (
        f"The outline does not have the documented shape{count_en}.",
        f"流程概要的结构与文档不符{count_zh}。",
    )


def _business(error: EsignBusinessError) -> Words:
    if error.esign_message:
        return (f"e签宝 says: {error.esign_message}", f"e签宝 的说明：{error.esign_message}")
    return ("e签宝 gave no message.", "e签宝 没有给出说明。")
