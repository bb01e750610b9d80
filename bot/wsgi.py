"""The production HTTP entry point: Slack requests at /slack/events, /healthz for the platform.

Served by granian as the Procfile's `web:` process (`bot.web_server` holds its settings).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from http import HTTPStatus
from typing import TYPE_CHECKING

from slack_bolt import BoltRequest
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.adapter.wsgi.http_response import WsgiHttpResponse

from bot.esign.callbacks import CALLBACK_PATH
from bot.esign.callbacks import MAX_BODY_BYTES as CALLBACK_MAX_BODY_BYTES
from bot.logging_setup import configure_logging
from bot.runtime import Runtime, create_runtime
from bot.settings import load_settings
from bot.startup_heap import freeze_startup_heap
from handlers.payload import malformed_request

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
#: Slack's own payloads stay far below this; anything larger is refused before Bolt reads it.
MAX_BODY_BYTES = 256 * 1024
SLACK_CONTENT_TYPES = ("application/x-www-form-urlencoded", "application/json")


class BotWsgi:
    def __init__(self, runtime: Runtime, *, fallback: WSGIApplication | None = None) -> None:
        self.runtime = runtime
        self._fallback = fallback

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == HEALTH_PATH:
            body = {
                "status": "ok",
                "simulated_esign": self.runtime.simulated,
                **self.runtime.health(),
            }
            return _answer(start_response, "200 OK", json.dumps(body), "application/json")
        if path == EVENTS_PATH:
            if method != "POST":
                return _answer(start_response, "405 Method Not Allowed", "POST only")
            content_type = _media_type(environ)
            refusal = _refuse_body(environ, content_type)
            if refusal is not None:
                return _answer(start_response, refusal, refusal)
            return self._dispatch(environ, start_response, content_type)
        if path == CALLBACK_PATH:
            return self._callback(environ, start_response, method)
        if self._fallback is not None:
            return self._fallback(environ, start_response)
        return _answer(start_response, "404 Not Found", "Not Found")

    def _callback(
        self, environ: WSGIEnvironment, start_response: StartResponse, method: str
    ) -> Iterable[bytes]:
        if method != "POST":
            # e签宝's face-auth pages send stray GETs here: answer them, act on nothing.
            return _answer(start_response, "200 OK", "ok")
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _answer(start_response, "400 Bad Request", "Bad Request")
        if length > CALLBACK_MAX_BODY_BYTES or length < 0:
            return _answer(start_response, "413 Content Too Large", "Content Too Large")
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {
            key[5:].replace("_", "-").lower(): str(value)
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        status, reason = self.runtime.callbacks.receive(
            headers, str(environ.get("QUERY_STRING", "")), body
        )
        if status != 200:
            return _answer(start_response, f"{status} {HTTPStatus(status).phrase}", reason)
        return _answer(start_response, "200 OK", json.dumps({"code": 0}), "application/json")

    def _dispatch(
        self, environ: WSGIEnvironment, start_response: StartResponse, content_type: str
    ) -> Iterable[bytes]:
        request = WsgiHttpRequest(environ)
        try:
            body = request.get_body()
        except (UnicodeDecodeError, ValueError):
            return _answer(start_response, "400 Bad Request", "Bad Request")
        problem = malformed_request(body, content_type)
        if problem is not None:
            log.info("malformed Slack request refused", extra={"problem": problem})
            return _answer(start_response, "400 Bad Request", "Bad Request")
        try:
            bolt_response = self.runtime.app.dispatch(
                BoltRequest(body=body, query=request.query_string, headers=request.get_headers())
            )
        except Exception:
            # Bolt parses the body before it checks the signature, so a body that does not
            # match its content type can fail there: a bad request, not our error.
            log.warning("unreadable Slack request refused", exc_info=True)
            return _answer(start_response, "400 Bad Request", "Bad Request")
        response = WsgiHttpResponse(
            status=bolt_response.status, headers=bolt_response.headers, body=bolt_response.body
        )
        start_response(response.status, response.get_headers())
        return response.get_body()

    def shutdown(self, timeout: float = 20.0) -> bool:
        return self.runtime.close(timeout)


def _media_type(environ: WSGIEnvironment) -> str:
    return str(environ.get("CONTENT_TYPE", "")).split(";")[0].strip().lower()


def _refuse_body(environ: WSGIEnvironment, content_type: str) -> str | None:
    if content_type not in SLACK_CONTENT_TYPES:
        return "400 Bad Request"
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return "400 Bad Request"
    if length > MAX_BODY_BYTES:
        return "413 Content Too Large"
    return None


def _answer(
    start_response: StartResponse, status: str, body: str, content_type: str = "text/plain"
) -> list[bytes]:
    data = body.encode("utf-8")
    start_response(
        status,
        [("Content-Type", f"{content_type}; charset=utf-8"), ("Content-Length", str(len(data)))],
    )
    return [data]


def create_app() -> BotWsgi:
    """The app, built once in each web worker (`bot.web_server.serving_app`)."""
    settings = load_settings()
    configure_logging(settings.log_level, settings.secret_values())
    app = BotWsgi(create_runtime(settings))
    freeze_startup_heap()
    return app
