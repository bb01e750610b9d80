"""e签宝's API gateway checks, re-implemented from the docs (not from the bot's code).

The bot signs requests with its own module; this one verifies them independently, so a signing
bug in the bot shows up as a 401 here instead of being mirrored. Everything is computed from the
request exactly as it arrived: the raw request target and the header values as sent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from stand_ins.esign_simulator.tokens import TokenStore

SIM_APP_ID = "7438000000000001"  # sandbox-looking (sandbox app ids start with 7438)
SIM_APP_SECRET = "simulator-app-secret"  # noqa: S105 - public, local-only secret

APP_ID_HEADER = "X-Tsign-Open-App-Id"
AUTH_MODE_HEADER = "X-Tsign-Open-Auth-Mode"
TIMESTAMP_HEADER = "X-Tsign-Open-Ca-Timestamp"
SIGNATURE_HEADER = "X-Tsign-Open-Ca-Signature"
SIGNED_HEADERS_HEADER = "X-Tsign-Open-Ca-Signature-Headers"
TOKEN_HEADER = "X-Tsign-Open-Token"  # noqa: S105 - a header name

#: The replay guard: e签宝 accepts timestamps up to 15 minutes either side of its clock.
TIMESTAMP_WINDOW_MS = 15 * 60 * 1000

#: Headers that have their own line in the string to sign, or carry the signature itself: the
#: doc says they never go in the Headers block, even when a client lists them.
_NOT_IN_HEADERS_BLOCK = frozenset(
    {
        "accept",
        "content-md5",
        "content-type",
        "date",
        "x-tsign-open-ca-signature",
        "x-tsign-open-ca-signature-headers",
    }
)

# Gateway reasons, spelled as e签宝 answers them.
MISSING_PARAMETER = "缺少参数"
UNKNOWN_APP = "无效的应用"
INVALID_TIMESTAMP = "INVALID_TIMESTAMP"
INVALID_SIGNATURE = "INVALID_SIGNATURE"
UNKNOWN_AUTH_MODE = "AUTHSTRATEGY_NOT_FOUND"
BAD_TOKEN = "TOKEN错误"  # noqa: S105 - a gateway reason
IP_NOT_ALLOWED = "IP白名单不匹配"
#: Not in e签宝's docs: the simulator's own reason for a body that does not match Content-MD5
#: (Aliyun-style gateways answer 400 for it, so this one does too).
BAD_CONTENT_MD5 = "INVALID_CONTENT_MD5"


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why the gateway refused a request, before it could reach the identity service."""

    status: int
    reason: str


class HeaderView:
    """Case-insensitive, first-value-wins view of headers as received; missing means ""."""

    def __init__(self, headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> None:
        pairs = headers.items() if isinstance(headers, Mapping) else headers
        self._values: dict[str, str] = {}
        for name, value in pairs:
            self._values.setdefault(name.lower(), value)

    def get(self, name: str) -> str:
        return self._values.get(name.lower(), "")

    def has(self, name: str) -> bool:
        return name.lower() in self._values


def path_and_parameters(raw_path_and_query: str) -> str:
    """PathAndParameters: the path, then query keys sorted ASCII with their first value.

    Values are kept exactly as they stand in the URL (no decoding, no re-encoding), an empty
    value leaves the key alone without `=`, and no query means the bare path without `?`.
    """
    path, _, query = raw_path_and_query.partition("?")
    first_value: dict[str, str] = {}
    for pair in query.split("&") if query else ():
        if not pair:
            continue
        key, _, value = pair.partition("=")
        first_value.setdefault(key, value)
    if not first_value:
        return path
    ordered = sorted(first_value.items())  # code-point order is ASCII order for ASCII keys
    return path + "?" + "&".join(f"{key}={value}" if value else key for key, value in ordered)


def signed_header_names(headers: HeaderView) -> list[str]:
    """Names listed in X-Tsign-Open-Ca-Signature-Headers, minus those that never go in the block."""
    names: list[str] = []
    seen: set[str] = set()
    for raw in headers.get(SIGNED_HEADERS_HEADER).split(","):
        name = raw.strip()
        if name and name.lower() not in _NOT_IN_HEADERS_BLOCK and name.lower() not in seen:
            seen.add(name.lower())
            names.append(name)
    return sorted(names)


def string_to_sign(
    method: str,
    headers: HeaderView | Mapping[str, str] | Iterable[tuple[str, str]],
    raw_path_and_query: str,
) -> str:
    """The documented string to sign for a request with these headers and this raw target.

    Seven fields joined by newlines; when the Headers block is empty its line is left out.
    """
    view = headers if isinstance(headers, HeaderView) else HeaderView(headers)
    fields = [
        method.upper(),
        view.get("Accept"),
        view.get("Content-MD5"),
        view.get("Content-Type"),
        view.get("Date"),
    ]
    block = "\n".join(f"{name}:{view.get(name)}" for name in signed_header_names(view))
    if block:
        fields.append(block)
    fields.append(path_and_parameters(raw_path_and_query))
    return "\n".join(fields)


def signature(secret: str, string: str) -> str:
    """Base64(HMAC-SHA256(key=secret, message=string)), both UTF-8."""
    digest = hmac.new(secret.encode("utf-8"), string.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def content_md5(body: bytes) -> str:
    """Base64 of the binary MD5 of the body, as the Content-MD5 header carries it."""
    # MD5 is what the gateway specifies for body integrity, not a security choice of ours.
    return base64.b64encode(hashlib.md5(body).digest()).decode("ascii")  # noqa: S324


class Gateway:
    """Decides, like e签宝's gateway, whether a request may reach the identity service."""

    def __init__(
        self, app_id: str, app_secret: str, tokens: TokenStore, clock: Callable[[], float]
    ) -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        self._tokens = tokens
        self._clock = clock

    def check(
        self, method: str, headers: HeaderView, raw_target: str, body: bytes
    ) -> Rejection | None:
        """None when the request passes; the gateway's rejection otherwise."""
        sent_md5 = headers.get("Content-MD5")
        if (
            sent_md5
            and body
            and not hmac.compare_digest(sent_md5.encode("utf-8"), content_md5(body).encode("ascii"))
        ):
            return Rejection(400, BAD_CONTENT_MD5)
        # No auth-mode header (or an empty one) means token mode, as e签宝 assumes.
        mode = headers.get(AUTH_MODE_HEADER)
        if not mode:
            return self._check_token(headers)
        if mode.lower() != "signature":
            return Rejection(401, UNKNOWN_AUTH_MODE)
        return self._check_signature(method, headers, raw_target)

    def _check_signature(
        self, method: str, headers: HeaderView, raw_target: str
    ) -> Rejection | None:
        app_id = headers.get(APP_ID_HEADER)
        timestamp = headers.get(TIMESTAMP_HEADER)
        sent_signature = headers.get(SIGNATURE_HEADER)
        if not (app_id and timestamp and sent_signature):
            return Rejection(401, MISSING_PARAMETER)
        if app_id != self.app_id:
            return Rejection(401, UNKNOWN_APP)
        if not self._timestamp_fresh(timestamp):
            return Rejection(401, INVALID_TIMESTAMP)
        expected = signature(self.app_secret, string_to_sign(method, headers, raw_target))
        if not hmac.compare_digest(sent_signature.encode("utf-8"), expected.encode("ascii")):
            return Rejection(401, INVALID_SIGNATURE)
        return None

    def _timestamp_fresh(self, timestamp: str) -> bool:
        # Only plain ASCII digits count as milliseconds; seconds fail the window check below.
        if not (timestamp.isascii() and timestamp.isdigit()):
            return False
        now_ms = int(self._clock() * 1000)
        return abs(int(timestamp) - now_ms) <= TIMESTAMP_WINDOW_MS

    def _check_token(self, headers: HeaderView) -> Rejection | None:
        app_id = headers.get(APP_ID_HEADER)
        if not app_id:
            return Rejection(401, MISSING_PARAMETER)
        if app_id != self.app_id:
            return Rejection(401, UNKNOWN_APP)
        if not self._tokens.is_valid(app_id, headers.get(TOKEN_HEADER)):
            return Rejection(401, BAD_TOKEN)
        return None
