"""e签宝's status callbacks (e签宝 → us): verified exactly as e签宝 signs them, then read.

Signature = lowercase hex HMAC-SHA256(app secret, timestamp + the values of the notify URL's own
query parameters, keys sorted ASCII, + the raw body). A callback is refused when its app id is
not ours, its timestamp is more than 15 minutes off (the window e签宝's gateway allows us), or
the signature does not match (compared in constant time).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import parse_qsl

from bot.esign.flow_id import FLOW_ID_PATTERN

#: Where the bot takes e签宝's callbacks (the notify URL set in e签宝's console or on a flow).
CALLBACK_PATH: Final = "/esign/callback"
APP_ID_HEADER: Final = "X-Tsign-Open-App-Id"
TIMESTAMP_HEADER: Final = "X-Tsign-Open-TIMESTAMP"
SIGNATURE_HEADER: Final = "X-Tsign-Open-SIGNATURE"
ALGORITHM_HEADER: Final = "X-Tsign-Open-SIGNATURE-ALGORITHM"
MAX_SKEW_SECONDS: Final = 15 * 60
MAX_BODY_BYTES: Final = 1024 * 1024


class CallbackRefused(Exception):
    """Why a callback is not acted on; `status` is the HTTP answer e签宝 gets."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def callback_signature(secret: str, timestamp: str, query: str, body: bytes) -> str:
    """The hex signature e签宝 puts in X-Tsign-Open-SIGNATURE for this request."""
    values = "".join(value for _, value in sorted(parse_qsl(query, keep_blank_values=True)))
    message = timestamp.encode("utf-8") + values.encode("utf-8") + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class StatusCallback:
    """The flows a verified callback is about (an organization's names its agent's flow too)."""

    flow_ids: tuple[str, ...]
    action: str | None
    success: bool | None


def verify_callback(
    *,
    app_id: str,
    secret: str,
    headers: Mapping[str, str],
    query: str,
    body: bytes,
    now: float,
) -> StatusCallback:
    """The callback's content once it is proven to be e签宝's, fresh, for us; else CallbackRefused.

    `headers` must be keyed case-insensitively by the caller (lower-case names).
    """
    if len(body) > MAX_BODY_BYTES:
        raise CallbackRefused(413, "body too large")
    if headers.get(APP_ID_HEADER.lower()) != app_id:
        raise CallbackRefused(403, "unknown app id")
    timestamp = headers.get(TIMESTAMP_HEADER.lower(), "")
    if not timestamp.isascii() or not timestamp.isdigit():
        raise CallbackRefused(401, "missing timestamp")
    if abs(now - int(timestamp) / 1000) > MAX_SKEW_SECONDS:
        raise CallbackRefused(401, "stale timestamp")
    algorithm = headers.get(ALGORITHM_HEADER.lower(), "hmac-sha256").lower()
    if algorithm != "hmac-sha256":
        raise CallbackRefused(401, "unsupported signature algorithm")
    expected = callback_signature(secret, timestamp, query, body)
    given = headers.get(SIGNATURE_HEADER.lower(), "").lower()
    if not hmac.compare_digest(expected.encode("ascii"), given.encode("ascii", "replace")):
        raise CallbackRefused(401, "bad signature")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise CallbackRefused(400, "body is not JSON") from None
    if not isinstance(data, dict):
        raise CallbackRefused(400, "body is not a JSON object")
    flow_ids = tuple(
        dict.fromkeys(
            value
            for key in ("flowId", "agentFlowId")
            if isinstance(value := data.get(key), str) and FLOW_ID_PATTERN.fullmatch(value)
        )
    )
    action = data.get("action")
    success = data.get("success")
    return StatusCallback(
        flow_ids=flow_ids,
        action=action if isinstance(action, str) else None,
        success=success if isinstance(success, bool) else None,
    )
