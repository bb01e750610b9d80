"""POSTs to Slack response_urls over kept-alive connections, retried where Slack allows.

slack_sdk's WebhookClient opens a new connection (and builds a urllib opener) for every post;
on the benchmark's warm path that was 29% of the bot's GIL time, and against hooks.slack.com
it is also a TLS handshake per answer. Measured per 3 KB post on one machine, CPU per post:
WebhookClient 0.8 ms, urllib3's PoolManager 0.8 ms, httpx.Client 1.5 ms, one kept-alive
http.client connection per thread 0.45 ms. Hence this small client on http.client.

Each thread keeps one connection per host. The response_url guard limits the hosts to Slack's
hook hosts (or the local stand-in), so the pool stays a handful of sockets per worker thread.

Retries follow slack_sdk's handlers (connection errors, 429 after Retry-After, 500/503 with
backoff; two more tries in all), with one rule on top: once a request may have reached Slack,
a failure is reported rather than retried, because a second post would be a second message.
"""

from __future__ import annotations

import http.client
import json
import logging
import math
import platform
import random
import re
import select
import socket
import ssl
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import slack_sdk.version
from slack_sdk.proxy_env_variable_loader import load_http_proxy_from_env
from slack_sdk.webhook import WebhookClient

from bot.slack.retries import slack_retry_handlers

#: Slack answers a response_url with "ok" or a short error; nothing longer is worth reading.
MAX_RESPONSE_BYTES = 64 * 1024
#: A Retry-After beyond this holds a worker thread for longer than the answer is worth.
MAX_RETRY_AFTER_SECONDS = 30.0
RETRIED_STATUSES = frozenset({429, 500, 503})
USER_AGENT = (
    f"esign-flow-bot Python/{platform.python_version()} slackclient/{slack_sdk.version.__version__}"
)
_HEADERS = {"Content-Type": "application/json;charset=utf-8", "User-Agent": USER_AGENT}
# What http.client refuses in a request target; checked first so such a URL is never retried.
_BAD_TARGET_CHARACTERS = re.compile(r"[\x00-\x20\x7f]")

# The server closed the connection without answering: it did not take the request, so sending
# it again cannot post twice (slack_sdk retries the same two, ConnectionResetError and
# RemoteDisconnected, plus the write-side variants here).
_NOT_TAKEN = (
    http.client.RemoteDisconnected,
    BrokenPipeError,
    ConnectionResetError,
    ConnectionAbortedError,
)

# slack_sdk logs the full URL (the response_url's token included) at INFO when it retries.
_proxied_log = logging.getLogger(__name__ + ".proxied")
_proxied_log.setLevel(logging.WARNING)

_Key = tuple[str, str, int]


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

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class _Target:
    key: _Key
    path: str
    host_port: str  # as urllib gives it to proxy_bypass

    @classmethod
    def parse(cls, url: str) -> _Target:
        parts = urlsplit(url)
        try:
            port = parts.port
        except ValueError:
            raise HookPostFailed("unsupported_url") from None
        host = parts.hostname or ""
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if (
            parts.scheme not in ("http", "https")
            or not host
            or not host.isascii()
            or parts.username is not None
            or not path.isascii()
            or _BAD_TARGET_CHARACTERS.search(path)
        ):
            raise HookPostFailed("unsupported_url")
        default_port = 443 if parts.scheme == "https" else 80
        host_port = host if port is None else f"{host}:{port}"
        return cls((parts.scheme, host, port or default_port), path, host_port)


@dataclass(frozen=True, slots=True)
class _Answer:
    response: HookResponse
    retry_after: float | None


class ResponseUrlClient:
    """Thread-safe: every thread posts over connections of its own."""

    def __init__(
        self,
        *,
        timeout: float = 10.0,
        max_retries: int = 2,
        sleep: Callable[[float], None] = time.sleep,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self._timeout = timeout
        self._max_retries = max_retries
        self._sleep = sleep
        self._tls = tls or ssl.create_default_context()
        # Read once, the way slack_sdk reads it for the Web API client.
        self._proxy = load_http_proxy_from_env(_proxied_log)
        self._local = threading.local()
        self._all: list[http.client.HTTPConnection] = []
        self._all_lock = threading.Lock()
        self._closed = False

    def post_json(self, url: str, message: dict[str, Any]) -> HookResponse:
        target = _Target.parse(url)
        if self._closed:
            raise HookPostFailed("closed")
        if self._proxy is not None and not urllib.request.proxy_bypass(target.host_port):
            return self._post_through_proxy(url, message)
        body = json.dumps(message).encode()
        failures = 0
        while True:
            try:
                answer = self._exchange(target, body)
            except _Retryable as exc:
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
        """Close every thread's connections; posts after this fail. Call once none is in flight."""
        with self._all_lock:
            self._closed = True
            connections, self._all = self._all, []
        for connection in connections:
            connection.close()

    def _exchange(self, target: _Target, body: bytes) -> _Answer:
        connection, reused = self._connection(target.key)
        if connection.sock is None:
            try:
                connection.connect()
            except OSError as exc:
                self._discard(target.key, connection)
                raise _Retryable(type(exc).__name__) from None
        try:
            connection.request("POST", target.path, body=body, headers=_HEADERS)
            answer = connection.getresponse()
        except _NOT_TAKEN as exc:
            self._discard(target.key, connection)
            if reused:
                # Closed while it sat idle, just as we wrote: again at once, on a new one.
                return self._exchange(target, body)
            raise _Retryable(type(exc).__name__) from None
        except (OSError, http.client.HTTPException) as exc:
            # Say a timeout waiting for the answer: Slack may have posted the card already.
            self._discard(target.key, connection)
            raise HookPostFailed(type(exc).__name__) from None
        try:
            data = answer.read(MAX_RESPONSE_BYTES + 1)
            reusable = answer.isclosed() and not answer.will_close
        except (OSError, http.client.HTTPException):
            data, reusable = b"", False  # the status says what happened; the body is a nicety
        if not reusable:
            answer.close()
            self._discard(target.key, connection)
        return _Answer(
            HookResponse(answer.status, data[:MAX_RESPONSE_BYTES].decode("utf-8", "replace")),
            _retry_after(answer.getheader("Retry-After")),
        )

    def _connection(self, key: _Key) -> tuple[http.client.HTTPConnection, bool]:
        pool: dict[_Key, http.client.HTTPConnection] | None = getattr(self._local, "pool", None)
        if pool is None:
            pool = self._local.pool = {}
        connection = pool.get(key)
        if connection is not None:
            if connection.sock is not None and not _dropped(connection.sock):
                return connection, True
            self._discard(key, connection)
        scheme, host, port = key
        if scheme == "https":
            connection = http.client.HTTPSConnection(
                host, port, timeout=self._timeout, context=self._tls
            )
        else:
            connection = http.client.HTTPConnection(host, port, timeout=self._timeout)
        pool[key] = connection
        with self._all_lock:
            self._all.append(connection)
        return connection, False

    def _discard(self, key: _Key, connection: http.client.HTTPConnection) -> None:
        connection.close()
        pool: dict[_Key, http.client.HTTPConnection] = getattr(self._local, "pool", {})
        if pool.get(key) is connection:
            del pool[key]
        with self._all_lock:
            if connection in self._all:
                self._all.remove(connection)

    def _post_through_proxy(self, url: str, message: dict[str, Any]) -> HookResponse:
        # A proxied deployment is rare; WebhookClient (urllib) already speaks to proxies.
        hook = WebhookClient(
            url,
            timeout=max(1, math.ceil(self._timeout)),
            proxy=self._proxy,
            logger=_proxied_log,
            retry_handlers=slack_retry_handlers(self._max_retries),
        )
        try:
            answer = hook.send_dict(message)
        except Exception as exc:  # noqa: BLE001 (urllib and slack_sdk raise many kinds)
            raise HookPostFailed(type(exc).__name__) from None
        return HookResponse(answer.status_code, answer.body[:MAX_RESPONSE_BYTES])


def _dropped(sock: socket.socket) -> bool:
    """An idle kept-alive socket that is readable has been closed by the server (or is out of
    step with it): either way it must not carry the next request."""
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))


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
