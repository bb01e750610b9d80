"""The production front of the web process: granian hands each request here (ASGI), the body
is read in full with a deadline and a size cap, and only then do the bot's routes run.

Reading is what a slow client can stretch: under WSGI the request thread read the body itself,
so one upload that declared a Content-Length and stopped sending held the worker's only request
thread, and every command queued behind it until Slack gave up. Here bodies are awaited on the
event loop, where a stalled one costs nothing but a socket; a client past the deadline gets 408
and its connection is closed. The routes then run on the loop's thread, one request after
another, as the single request thread ran them before (`bot.app.web.server` says why one).
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from bot.app.logs import configure_logging
from bot.app.lookup_stack import StartSimulator
from bot.app.runtime import create_runtime
from bot.app.settings import load_settings
from bot.app.startup_heap import freeze_startup_heap
from bot.app.web.routes import (
    BODY_PATHS,
    TIMED_OUT,
    TOO_LARGE,
    BotRoutes,
    WebAnswer,
    WebRequest,
    body_limit,
    text_answer,
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

#: How long a client may take to send a whole body. Slack sends its few KB at once and gives
#: up on an answer after 3 s; e签宝's callbacks are as small.
BODY_SECONDS = 5.0


class _ClientGone(Exception):
    pass


class BotAsgi:
    def __init__(self, routes: BotRoutes, *, body_seconds: float = BODY_SECONDS) -> None:
        self.routes = routes
        self.runtime = routes.runtime
        self._body_seconds = body_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # served as "asginl": no lifespan, and no websockets are routed here
        started = time.perf_counter()
        raw_query: bytes = scope.get("query_string", b"")
        request = WebRequest(
            method=scope["method"],
            path=scope["path"],
            query=raw_query.decode("latin-1"),
            headers=_headers(scope["headers"]),
            body=b"",
        )
        answer = self.routes.refuse_early(request)
        if answer is None and request.path in BODY_PATHS:
            try:
                body = await self._read_body(receive, body_limit(request.path))
            except _ClientGone:
                return
            if isinstance(body, WebAnswer):
                answer = body
            else:
                request = dataclasses.replace(request, body=body)
        if answer is None:
            answer = self.routes.answer(request) or text_answer(404)
        await _send(send, answer)
        if answer.door is not None and self.runtime.metrics is not None:
            self.runtime.metrics.acked(answer.door, time.perf_counter() - started)

    async def _read_body(self, receive: Receive, limit: int) -> bytes | WebAnswer:
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self._body_seconds):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        raise _ClientGone
                    chunk: bytes = message.get("body", b"")
                    size += len(chunk)
                    if size > limit:
                        self.routes.refusals.refused("too_large", "request body over the limit")
                        return text_answer(TOO_LARGE, close=True)
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        return b"".join(chunks)
        except TimeoutError:
            self.routes.refusals.refused(
                "body_timeout",
                "request body not sent in time",
                seconds=self._body_seconds,
                received_bytes=size,
            )
            return text_answer(TIMED_OUT, close=True)

    def shutdown(self, timeout: float = 20.0) -> bool:
        self.routes.refusals.flush()
        return self.runtime.close(timeout)


def _headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in raw:
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    return headers


async def _send(send: Send, answer: WebAnswer) -> None:
    headers = [(n.lower().encode("latin-1"), v.encode("latin-1")) for n, v in answer.headers]
    if answer.close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body})


def create_app(simulator: StartSimulator | None = None) -> BotAsgi:
    """The app, built once in each web worker (`bot.app.web.server.serving_app`)."""
    settings = load_settings()
    configure_logging(settings.log_level, settings.secret_values(), settings.log_format)
    app = BotAsgi(BotRoutes(create_runtime(settings, simulator=simulator)))
    freeze_startup_heap()
    return app
