"""The bot's routes as a WSGI app, for the local playground's one server (stand_ins/local_run).

Production serves the same routes through `bot.app.web.asgi`, whose front reads every body with a
deadline; this adapter reads the body on the calling thread, which is fine where the server
gives each connection a thread of its own, as the playground's does.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from bot.app.runtime import Runtime
from bot.app.web.routes import (
    BODY_PATHS,
    BotRoutes,
    WebAnswer,
    WebRequest,
    body_limit,
    text_answer,
)

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment


class BotWsgi:
    def __init__(self, runtime: Runtime, *, fallback: WSGIApplication | None = None) -> None:
        self.runtime = runtime
        self.routes = BotRoutes(runtime)
        self._fallback = fallback

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = _request(environ, b"")
        answer = self.routes.refuse_early(request)
        if answer is None and request.path in BODY_PATHS:
            body = _read_body(environ, body_limit(request.path))
            answer = (
                text_answer(400) if body is None else self.routes.answer(_request(environ, body))
            )
        elif answer is None:
            # Anything else is the routes' without a body (/healthz) or the fallback's, which
            # reads its own body.
            answer = self.routes.answer(request)
        if answer is None:
            if self._fallback is not None:
                return self._fallback(environ, start_response)
            answer = text_answer(404)
        return _respond(start_response, answer)

    def shutdown(self, timeout: float = 20.0) -> bool:
        return self.runtime.close(timeout)


def _request(environ: WSGIEnvironment, body: bytes) -> WebRequest:
    headers = {
        key[5:].replace("_", "-").lower(): str(value)
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    for key, name in (("CONTENT_TYPE", "content-type"), ("CONTENT_LENGTH", "content-length")):
        if environ.get(key):
            headers[name] = str(environ[key])
    return WebRequest(
        method=str(environ.get("REQUEST_METHOD", "GET")),
        path=str(environ.get("PATH_INFO", "")),
        query=str(environ.get("QUERY_STRING", "")),
        headers=headers,
        body=body,
    )


def _read_body(environ: WSGIEnvironment, limit: int) -> bytes | None:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    # One byte past the limit tells a body over it from one exactly at it.
    return environ["wsgi.input"].read(min(length, limit + 1)) if length > 0 else b""


def _respond(start_response: StartResponse, answer: WebAnswer) -> list[bytes]:
    # No Connection header: WSGI leaves hop-by-hop headers to the server.
    start_response(answer.status_line, list(answer.headers))
    return [answer.body]
