"""POSTs to Slack response_urls over kept-alive connections, retried where Slack allows.

slack_sdk's WebhookClient opens a new connection (and builds a urllib opener) for every post;
on the benchmark's warm path that was 29% of the bot's GIL time, and against hooks.slack.com
it is also a TLS handshake per answer. Measured per 3 KB post on one machine, CPU per post:
WebhookClient 0.8 ms, urllib3's PoolManager 0.8 ms, httpx.Client 1.5 ms, one kept-alive
http.client connection per thread 0.45 ms. Hence this small client on http.client.

Each thread keeps one connection per host. The response_url guard limits the hosts to Slack's
hook hosts (or the local stand-in), so the pool stays a handful of sockets per worker thread.
"""

from __future__ import annotations

import http.client
import json
import logging
import random
import select
import socket
import ssl
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit

from slack_sdk.errors import SlackClientError
from slack_sdk.webhook import WebhookClient

from bot.slack_retries import slack_retry_handlers

log = logging.getLogger(__name__)

#: Slack answers a response_url with "ok" or a short error; nothing longer is worth reading.
MAX_RESPONSE_BYTES = 64 * 1024
#: A Retry-After beyond this holds a worker thread for longer than the answer is worth.
MAX_RETRY_AFTER_SECONDS = 30.0
RETRIED_STATUSES = frozenset({429, 500, 503})
USER_AGENT = "esign-flow-bot"

# The errors of a kept-alive connection the server closed while it sat idle: the request never
# reached the application, so sending it again on a new connection cannot post twice.
_STALE_CONNECTION_ERRORS = (
    http.client.RemoteDisconnected,
    BrokenPipeError,
    ConnectionResetError,
    ConnectionAbortedError,
)

_Key = tuple[str, str, int]


@dataclass(frozen=True, slots=True)
class HookResponse:
    status: int
    body: str


class HookPostFailed(Exception):
    """No HTTP answer after the retries; `reason` names the last error (never the URL)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ResponseUrlClient:
    """Thread-safe: every thread posts over connections of its own."""

    def __init__(
        self,
        *,
        timeout: float = 10.0,
        max_retries: int = 2,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._timeout = timeout
        self._max_retries = max_retries
        self._sleep = sleep
        self._tls = ssl.create_default_context()
        # The same proxy settings urllib (and so WebhookClient) would honour, read once.
        self._proxies = urllib.request.getproxies()
        self._local = threading.local()
        self._all: list[http.client.HTTPConnection] = []
        self._all_lock = threading.Lock()

    def post_json(self, url: str, message: dict[str, Any]) -> HookResponse:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise HookPostFailed("unsupported_url")
        if self._proxied(parts):
            return self._post_through_proxy(url, message)
        body = json.dumps(message).encode()
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        failures = 0
        while True:
            try:
                response, retry_after = self._exchange(parts, target, body)
            except (OSError, http.client.HTTPException) as exc:
                if failures >= self._max_retries:
                    raise HookPostFailed(type(exc).__name__) from exc
                failures += 1
                self._sleep(_backoff(failures))
                continue
            if response.status not in RETRIED_STATUSES or failures >= self._max_retries:
                return response
            failures += 1
            self._sleep(retry_after if retry_after is not None else _backoff(failures))

    def close(self) -> None:
        """Close every connection any thread opened (at shutdown, when no post is in flight)."""
        with self._all_lock:
            connections, self._all = self._all, []
        for connection in connections:
            connection.close()

    def _exchange(
        self, parts: SplitResult, target: str, body: bytes
    ) -> tuple[HookResponse, float | None]:
        key: _Key = (parts.scheme, parts.hostname or "", parts.port or _default_port(parts))
        connection, reused = self._connection(key)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
        }
        try:
            connection.request("POST", target, body=body, headers=headers)
            answer = connection.getresponse()
        except _STALE_CONNECTION_ERRORS:
            self._discard(key, connection)
            if not reused:
                raise
            connection, _ = self._connection(key)
            try:
                connection.request("POST", target, body=body, headers=headers)
                answer = connection.getresponse()
            except BaseException:
                self._discard(key, connection)
                raise
        except BaseException:
            self._discard(key, connection)
            raise
        try:
            data = answer.read(MAX_RESPONSE_BYTES)
            complete = answer.isclosed()
        except BaseException:
            self._discard(key, connection)
            raise
        if answer.will_close or not complete:
            self._discard(key, connection)
        response = HookResponse(answer.status, data.decode("utf-8", errors="replace"))
        return response, _retry_after(answer.getheader("Retry-After"))

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

    def _proxied(self, parts: SplitResult) -> bool:
        return bool(
            self._proxies
            and parts.scheme in self._proxies
            and not urllib.request.proxy_bypass(parts.hostname or "")
        )

    def _post_through_proxy(self, url: str, message: dict[str, Any]) -> HookResponse:
        # A proxied deployment is rare; WebhookClient (urllib) already speaks to proxies.
        hook = WebhookClient(url, timeout=int(self._timeout), retry_handlers=slack_retry_handlers())
        try:
            answer = hook.send_dict(message)
        except (SlackClientError, OSError) as exc:
            raise HookPostFailed(type(exc).__name__) from exc
        return HookResponse(answer.status_code, answer.body)


def _default_port(parts: SplitResult) -> int:
    return 443 if parts.scheme == "https" else 80


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
    if seconds != seconds or seconds < 0:  # NaN or negative
        return None
    return min(seconds, MAX_RETRY_AFTER_SECONDS) + random.random() * 0.5  # noqa: S311
