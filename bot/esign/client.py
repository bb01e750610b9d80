"""The only way the bot reaches e签宝: signed outline lookups with bounded retries."""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import ValidationError

from bot.esign.circuit_breaker import CircuitBreaker
from bot.esign.errors import (
    EsignBusinessError,
    EsignError,
    EsignUnavailable,
    FlowNotFound,
    GatewayRejected,
    RateLimited,
    RateLimitSource,
    UnavailableReason,
    UnexpectedReason,
    UnexpectedResponse,
)
from bot.esign.flow_id import validate_flow_id
from bot.esign.models import FlowOutline
from bot.esign.rate_limit import CallPacer

log = logging.getLogger(__name__)

OUTLINE_PATH = "/v2/identity/auth/api/common/{flow_id}/outline"
#: Both codes mean "no such flow" for this endpoint (the page and the error table disagree).
NOT_FOUND_CODES = frozenset({30500001, 30500004})
_RETRYABLE_STATUS = frozenset({502, 503, 504})
#: A real outline is a few KB; anything far larger is not an answer we want in memory.
MAX_BODY_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_retries: int = 2
    base_delay: float = 0.2
    max_delay: float = 2.0
    #: Overall time budget for one lookup, attempts and waits included.
    deadline: float = 8.0


class EsignClient:
    """Looks up flow outlines over one long-lived, pooled `httpx.Client`."""

    def __init__(
        self,
        base_url: str,
        auth: httpx.Auth,
        *,
        connect_timeout: float = 3.0,
        read_timeout: float = 5.0,
        retry: RetryPolicy | None = None,
        max_connections: int = 50,
        transport: httpx.BaseTransport | None = None,
        breaker: CircuitBreaker | None = None,
        rate_limiter: CallPacer | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        on_request: Callable[[str, float], None] | None = None,
    ) -> None:
        """`on_request`: told each HTTP request's outcome and seconds (the metrics)."""
        self._timeout = httpx.Timeout(read_timeout, connect=connect_timeout)
        self._retry = retry or RetryPolicy()
        self._breaker = breaker
        self._rate_limiter = rate_limiter
        self._sleep = sleep
        self._monotonic = monotonic
        self._on_request = on_request
        self._http = httpx.Client(
            base_url=base_url,
            auth=auth,
            timeout=self._timeout,
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            headers={"Accept": "*/*"},
            transport=transport,
            follow_redirects=False,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> EsignClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get_outline(self, flow_id: str) -> FlowOutline:
        flow_id = validate_flow_id(flow_id)
        body = self._get_json(OUTLINE_PATH.format(flow_id=flow_id), flow_id)
        code = body.get("code")
        if not isinstance(code, int) or isinstance(code, bool):
            raise UnexpectedResponse(UnexpectedReason.NO_CODE)
        message = str(body.get("message") or "")
        if code in NOT_FOUND_CODES:
            raise FlowNotFound(flow_id, code=code, message=message)
        if code != 0:
            raise EsignBusinessError(code=code, message=message)
        data = body.get("data")
        if not isinstance(data, dict):
            raise UnexpectedResponse(UnexpectedReason.NO_DATA)
        try:
            return FlowOutline.model_validate(data)
        except ValidationError as exc:
            raise UnexpectedResponse(
                UnexpectedReason.BAD_SHAPE, problems=exc.error_count()
            ) from None

    def _get_json(self, path: str, flow_id: str) -> dict[str, Any]:
        policy = self._retry
        started = self._monotonic()
        attempt = 0
        while True:
            attempt += 1
            remaining = policy.deadline - (self._monotonic() - started)
            if self._rate_limiter is not None:
                self._rate_limiter.acquire(max_wait=max(0.0, remaining - 0.5))
            if self._breaker is not None:
                self._breaker.before_call()
            try:
                body = self._attempt(path, flow_id, attempt, remaining)
            except EsignUnavailable as exc:
                if self._breaker is not None:
                    self._breaker.record_failure()
                if not exc.retryable or attempt > policy.max_retries:
                    raise
                # Full jitter keeps a crowd of retrying lookups from hitting e签宝 in step.
                delay = random.uniform(0, min(policy.max_delay, policy.base_delay * 2**attempt))  # noqa: S311
                if self._monotonic() - started + delay >= policy.deadline:
                    raise
                # A warning, as urllib3 logs its retries: a flaky e签宝 should show in the logs
                # before it shows as failed cards (the breaker bounds the volume in an outage).
                log.warning(
                    "e签宝 outline retry",
                    extra={"flow_id": flow_id, "attempt": attempt, "reason": exc.detail},
                )
                self._sleep(delay)
                continue
            except BaseException:
                # e签宝 answered (oddly): it is up, and a trial call must not stay pending.
                if self._breaker is not None:
                    self._breaker.record_success()
                raise
            if self._breaker is not None:
                self._breaker.record_success()
            return body

    def _attempt(self, path: str, flow_id: str, attempt: int, remaining: float) -> dict[str, Any]:
        if remaining <= 0:
            raise EsignUnavailable(UnavailableReason.TIMEOUT)
        timeout = httpx.Timeout(
            min(self._timeout.read or remaining, remaining),
            connect=min(self._timeout.connect or remaining, remaining),
        )
        started = time.perf_counter()
        if self._on_request is None:
            return self._request(path, flow_id, attempt, timeout, started)
        outcome = "ok"
        try:
            return self._request(path, flow_id, attempt, timeout, started)
        except EsignError as exc:
            outcome = request_outcome(exc)
            raise
        finally:
            self._on_request(outcome, time.perf_counter() - started)

    def _request(
        self, path: str, flow_id: str, attempt: int, timeout: httpx.Timeout, started: float
    ) -> dict[str, Any]:
        try:
            with self._http.stream("GET", path, timeout=timeout) as response:
                content = _read_capped(response)
        except httpx.TimeoutException:
            raise EsignUnavailable(UnavailableReason.TIMEOUT, retryable=True) from None
        except (httpx.TransportError, httpx.DecodingError) as exc:
            raise EsignUnavailable(
                UnavailableReason.UNREACHABLE, retryable=True, error_name=type(exc).__name__
            ) from None
        status = response.status_code
        log.debug(
            "e签宝 outline answered",
            extra={
                "flow_id": flow_id,
                "status": status,
                "attempt": attempt,
                "ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        return _decode(status, content, response.headers)


def request_outcome(exc: EsignError) -> str:
    """One HTTP request's outcome as a metrics label: a few fixed words."""
    if isinstance(exc, EsignUnavailable):
        if exc.reason is UnavailableReason.TIMEOUT:
            return "timeout"
        if exc.reason is UnavailableReason.UNREACHABLE:
            return "unreachable"
        return "unavailable"
    if isinstance(exc, RateLimited):
        return "rate_limited"
    if isinstance(exc, GatewayRejected):
        return "rejected"
    return "unexpected"


def _read_capped(response: httpx.Response) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise UnexpectedResponse(UnexpectedReason.TOO_LARGE)
        chunks.append(chunk)
    return b"".join(chunks)


def _json_object(content: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(content)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _decode(status: int, content: bytes, headers: httpx.Headers) -> dict[str, Any]:
    body = _json_object(content)
    if status in (401, 403):
        reason = str(body.get("message") or "") if body else ""
        reason = reason[:200] or f"HTTP {status}"
        raise GatewayRejected(status, reason)
    if status == 429:
        raise RateLimited(RateLimitSource.ESIGN, retry_after=_seconds(headers.get("Retry-After")))
    if status in _RETRYABLE_STATUS:
        raise EsignUnavailable(UnavailableReason.HTTP_STATUS, status=status, retryable=True)
    if status >= 500:
        raise EsignUnavailable(UnavailableReason.HTTP_STATUS, status=status)
    if status != 200:
        raise UnexpectedResponse(UnexpectedReason.HTTP_STATUS, status=status)
    if body is None:
        raise EsignUnavailable(UnavailableReason.NOT_JSON)
    return body


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None
