"""POSTs to Slack response_urls over one pooled, kept-alive httpx client, retried where Slack
allows.

httpx is already the bot's client for e签宝; one stack is worth more than the ~0.35 ms of CPU per
post that a hand-made http.client pool saved. The client is shared by every worker thread
(httpx's pool is thread-safe), and the response_url guard limits the hosts to Slack's hook hosts
(or the local stand-in), so the pool stays a handful of sockets.

Retries follow slack_sdk's handlers (connection errors, 429 after Retry-After, 500/503 with
backoff; two more tries in all), with one rule on top: once a request may have reached Slack,
a failure is reported rather than retried, because a second post would be a second message.
"""

from __future__ import annotations

import json
import logging
import math
import os
import platform
import random
import re
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import slack_sdk.version
from slack_sdk.proxy_env_variable_loader import load_http_proxy_from_env

#: Slack answers a response_url with "ok" or a short error; nothing longer is worth reading.
MAX_RESPONSE_BYTES = 64 * 1024
#: A Retry-After beyond this holds a worker thread for longer than the answer is worth.
MAX_RETRY_AFTER_SECONDS = 30.0
RETRIED_STATUSES = frozenset({429, 500, 503})
USER_AGENT = (
    f"esign-flow-bot Python/{platform.python_version()} slackclient/{slack_sdk.version.__version__}"
)
_HEADERS = {
    "Content-Type": "application/json;charset=utf-8",
    "User-Agent": USER_AGENT,
    # The answer is a few bytes; identity keeps the size cap a cap on what is held in memory.
    "Accept-Encoding": "identity",
}
# Refused up front, as http.client refused them: httpx would quietly percent-encode them instead.
_BAD_TARGET_CHARACTERS = re.compile(r"[\x00-\x20\x7f]")
# An idle connection is checked for a server-side close before reuse; this bound also drops one a
# NAT may have forgotten silently, where a post would time out unanswered and not be retried.
_LIMITS = httpx.Limits(max_connections=None, max_keepalive_connections=20, keepalive_expiry=30.0)
# Errors by which the server closed the connection without answering: it did not take the
# request, so sending it again cannot post twice (slack_sdk retries ConnectionResetError and
# RemoteDisconnected, its read-side forms; the write-side ones are as safe).
_NOT_TAKEN = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)
_NEW_CONNECTION_EVENT = "connection.connect_tcp.started"

# A response_url carries a token in its path, and httpx logs every request URL at INFO.
logging.getLogger("httpx").setLevel(logging.WARNING)
# slack_sdk's loader logs the proxy URL (credentials and all) at DEBUG.
_proxy_log = logging.getLogger(__name__ + ".proxy")
_proxy_log.setLevel(logging.WARNING)


@dataclass(frozen=True, slots=True)
class HookResponse:
    status: int
    body: str


class HookPostFailed(Exception):
    """No usable HTTP answer; `reason` names the last error and never carries the URL."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Retryable(Exception):
    """The request did not reach Slack; trying again is safe."""

    def __init__(self, reason: str, *, reused: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        #: It failed on a kept-alive connection the server had closed while it sat idle.
        self.reused = reused


@dataclass(frozen=True, slots=True)
class _Answer:
    response: HookResponse
    retry_after: float | None


class ResponseUrlClient:
    """Thread-safe: every thread posts through one shared connection pool."""

    def __init__(
        self,
        *,
        timeout: float = 10.0,
        max_retries: int = 2,
        sleep: Callable[[float], None] = time.sleep,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self._max_retries = max_retries
        self._sleep = sleep
        # The system's trust store, as slack_sdk uses (httpx alone would use certifi's).
        options: dict[str, Any] = {
            "timeout": httpx.Timeout(timeout),
            "limits": _LIMITS,
            "verify": tls or ssl.create_default_context(),
            "headers": _HEADERS,
            "follow_redirects": False,
            # Proxies are chosen below, the way slack_sdk chooses them, not by httpx's rules.
            "trust_env": False,
        }
        self._direct = httpx.Client(**options)
        # Read once, the way slack_sdk reads it for the Web API client: one proxy for both
        # schemes, and urllib's no_proxy rules for which hosts skip it.
        proxy = load_http_proxy_from_env(_proxy_log)
        self._proxied: httpx.Client | None = None
        if proxy is not None:
            proxy = proxy.strip() if "://" in proxy else f"http://{proxy.strip()}"
            self._proxied = httpx.Client(proxy=proxy, **options)
        self._no_proxy = _no_proxy_setting()
        self._closed = False

    def post_json(self, url: str, message: dict[str, Any]) -> HookResponse:
        client = self._client_for(url)
        if self._closed:
            raise HookPostFailed("closed")
        body = json.dumps(message).encode()
        failures = 0
        while True:
            try:
                answer = _exchange(client, url, body)
            except _Retryable as exc:
                if exc.reused:
                    continue  # closed while it sat idle, just as we wrote: again at once
                if failures >= self._max_retries:
                    raise HookPostFailed(exc.reason) from None
                failures += 1
                self._sleep(_backoff(failures))
                continue
            status = answer.response.status
            if status not in RETRIED_STATUSES or failures >= self._max_retries:
                return answer.response
            failures += 1
            wait = answer.retry_after if status == 429 else None
            self._sleep(wait if wait is not None else _backoff(failures))

    def close(self) -> None:
        """Close the pooled connections; posts after this fail. Call once none is in flight."""
        self._closed = True
        self._direct.close()
        if self._proxied is not None:
            self._proxied.close()

    def _client_for(self, url: str) -> httpx.Client:
        parts = urlsplit(url)
        try:
            port = parts.port
        except ValueError:
            raise HookPostFailed("unsupported_url") from None
        host = parts.hostname or ""
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if (
            parts.scheme not in ("http", "https")
            or not host
            or not host.isascii()
            or parts.username is not None
            or not path.isascii()
            or _BAD_TARGET_CHARACTERS.search(path)
        ):
            raise HookPostFailed("unsupported_url")
        if self._proxied is None:
            return self._direct
        host_port = host if port is None else f"{host}:{port}"
        return self._direct if _bypasses_proxy(self._no_proxy, host, host_port) else self._proxied


def _exchange(client: httpx.Client, url: str, body: bytes) -> _Answer:
    events: list[str] = []

    def trace(event: str, info: dict[str, Any]) -> None:
        if event == _NEW_CONNECTION_EVENT:
            events.append(event)

    try:
        with client.stream("POST", url, content=body, extensions={"trace": trace}) as answer:
            try:
                data = _read_capped(answer)
            except httpx.HTTPError:
                data = b""  # the status says what happened; the body is a nicety
            return _Answer(
                HookResponse(answer.status_code, data.decode("utf-8", "replace")),
                _retry_after(answer.headers.get("Retry-After")),
            )
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.ProxyError, httpx.PoolTimeout) as exc:
        raise _Retryable(_reason(exc), reused=False) from None
    except (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError) as exc:
        if not _not_taken(exc):
            raise HookPostFailed(_reason(exc)) from None
        raise _Retryable(_reason(exc), reused=not events) from None
    except httpx.HTTPError as exc:
        # Say a timeout waiting for the answer: Slack may have posted the card already.
        raise HookPostFailed(_reason(exc)) from None
    except httpx.InvalidURL:
        raise HookPostFailed("unsupported_url") from None


def _read_capped(answer: httpx.Response) -> bytes:
    """At most MAX_RESPONSE_BYTES; a longer answer is cut, which also closes its connection."""
    chunks: list[bytes] = []
    size = 0
    for chunk in answer.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            break
    return b"".join(chunks)[:MAX_RESPONSE_BYTES]


def _not_taken(exc: httpx.TransportError) -> bool:
    if isinstance(exc, httpx.RemoteProtocolError):
        # httpcore's words for the server closing before the first byte of an answer.
        return "without sending a response" in str(exc)
    return isinstance(_root(exc), _NOT_TAKEN)


def _root(exc: BaseException) -> BaseException:
    # httpx chains its errors to httpcore's, and httpcore's to the socket's (its pool re-raises
    # "from None", which leaves the socket's error as the context rather than the cause).
    while (inner := exc.__cause__ or exc.__context__) is not None:
        exc = inner
    return exc


def _reason(exc: BaseException) -> str:
    """The underlying error's type (TimeoutError, ConnectionRefusedError, …): never the URL."""
    return type(_root(exc)).__name__


def _no_proxy_setting() -> str:
    # As urllib reads it: the lowercase name wins, even when it is set empty.
    lower = os.environ.get("no_proxy")
    return lower if lower is not None else os.environ.get("NO_PROXY", "")


def _bypasses_proxy(no_proxy: str, host: str, host_port: str) -> bool:
    """urllib's proxy_bypass_environment, which slack_sdk's urllib opener applies: `*`, or a
    host (with or without port) equal to an entry or under it as a domain."""
    if no_proxy.strip() == "*":
        return True
    for entry in no_proxy.split(","):
        name = entry.strip().lstrip(".").lower()
        if name and (
            name in (host, host_port) or host.endswith(f".{name}") or host_port.endswith(f".{name}")
        ):
            return True
    return False


def _backoff(attempt: int) -> float:
    return 0.5 * 2.0 ** (attempt - 1) + random.random() * 0.5  # noqa: S311 (jitter, not crypto)


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return min(seconds, MAX_RETRY_AFTER_SECONDS) + random.random() * 0.5  # noqa: S311
