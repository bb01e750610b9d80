"""What the web process answers, whatever server hands it the request: Slack's requests at
/slack/events, e签宝's callbacks at /esign/callback, /healthz for the platform.

A request arrives here whole (its body already read, and bounded, by the front that received
it: `bot.app.web.asgi` in production, `bot.app.web.wsgi` for the local playground), so nothing
in here ever waits on a client.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING

from slack_bolt import BoltRequest

from bot.app.metrics import METRICS_PATH, slack_door
from bot.app.web.refusals import RefusalLog
from bot.esign.callbacks import CALLBACK_PATH
from bot.esign.callbacks import MAX_BODY_BYTES as CALLBACK_MAX_BODY_BYTES
from handlers.payload import malformed_request

if TYPE_CHECKING:
    from bot.app.runtime import Runtime

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
#: Slack's own payloads stay far below this; anything larger is refused before Bolt reads it.
MAX_BODY_BYTES = 256 * 1024
SLACK_CONTENT_TYPES = ("application/x-www-form-urlencoded", "application/json")
#: The paths whose requests carry a body the routes read.
BODY_PATHS = frozenset({EVENTS_PATH, CALLBACK_PATH})
#: Refusals answered to a client that sent too little in time, or too much.
TIMED_OUT = 408
TOO_LARGE = 413


@dataclass(frozen=True, slots=True)
class WebRequest:
    method: str
    path: str
    query: str
    #: Header names in lower case, as HTTP/2 and ASGI give them.
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class WebAnswer:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    #: Ask the server to close the connection after the answer (a client we stopped reading).
    close: bool = False
    #: The kind of request this answers, timed as an ack by the front (the metrics).
    door: str | None = None

    @property
    def status_line(self) -> str:
        return f"{self.status} {HTTPStatus(self.status).phrase}"


def text_answer(
    status: int, text: str | None = None, content_type: str = "text/plain", *, close: bool = False
) -> WebAnswer:
    data = (HTTPStatus(status).phrase if text is None else text).encode("utf-8")
    return WebAnswer(
        status,
        data,
        [("Content-Type", f"{content_type}; charset=utf-8"), ("Content-Length", str(len(data)))],
        close=close,
    )


def media_type(headers: Mapping[str, str]) -> str:
    return headers.get("content-type", "").split(";")[0].strip().lower()


def body_limit(path: str) -> int:
    """The most a request to `path` may carry: fronts stop reading (413) past it."""
    return CALLBACK_MAX_BODY_BYTES if path == CALLBACK_PATH else MAX_BODY_BYTES


class BotRoutes:
    def __init__(self, runtime: Runtime, refusals: RefusalLog | None = None) -> None:
        self.runtime = runtime
        self.refusals = refusals or RefusalLog(log)
        # Bolt logs each bad signature in full at INFO; `refusals` counts them instead.
        logging.getLogger("slack_bolt.RequestVerification").setLevel(logging.WARNING)

    def refuse_early(self, request: WebRequest) -> WebAnswer | None:
        """An answer that needs no body (wrong method, type or declared size), or None."""
        if request.path == EVENTS_PATH:
            if request.method != "POST":
                return text_answer(405, "POST only")
            if media_type(request.headers) not in SLACK_CONTENT_TYPES:
                self.refusals.refused("slack_content_type", "Slack request of the wrong type")
                return text_answer(400)
        elif request.path != CALLBACK_PATH or request.method != "POST":
            return None
        length = request.headers.get("content-length")
        if length is None:
            return None
        try:
            declared = int(length)
        except ValueError:
            return text_answer(400)
        if declared < 0:
            return text_answer(400)
        if declared > body_limit(request.path):
            self.refusals.refused("too_large", "request body over the limit", path=request.path)
            return text_answer(TOO_LARGE, close=True)
        return None

    def answer(self, request: WebRequest) -> WebAnswer | None:
        """The answer to a whole request; None for a path this app does not serve."""
        if request.path == HEALTH_PATH:
            body = {"status": "ok", "simulated_esign": self.runtime.simulated}
            body.update(self.runtime.health())
            return text_answer(200, json.dumps(body), "application/json")
        if request.path == METRICS_PATH and self.runtime.metrics is not None:
            return self._metrics(request)
        if request.path == EVENTS_PATH or request.path == CALLBACK_PATH:
            early = self.refuse_early(request)
            if early is not None:
                return early
            if len(request.body) > body_limit(request.path):
                self.refusals.refused("too_large", "request body over the limit")
                return text_answer(TOO_LARGE, close=True)
            if request.path == EVENTS_PATH:
                return self._dispatch(request)
            return self._callback(request)
        return None

    def _metrics(self, request: WebRequest) -> WebAnswer:
        metrics = self.runtime.metrics
        assert metrics is not None  # noqa: S101 (narrowing: answer() checked)
        if request.method not in ("GET", "HEAD"):
            return text_answer(405, "GET only")
        status, headers, body = metrics.scrape(request.headers.get("authorization"))
        if status != 200:
            answer = text_answer(status)
            answer.headers.extend(headers)
            return answer
        return WebAnswer(status, body, [*headers, ("Content-Length", str(len(body)))])

    def _callback(self, request: WebRequest) -> WebAnswer:
        if request.method != "POST":
            # e签宝's face-auth pages send stray GETs here: answer them, act on nothing.
            return text_answer(200, "ok")
        status, reason = self.runtime.callbacks.receive(
            request.headers, request.query, request.body
        )
        if self.runtime.metrics is not None:
            self.runtime.metrics.callback(status, reason)
        if status != 200:
            self.refusals.refused(f"callback_{status}", "e签宝 callback refused", reason=reason)
            return text_answer(status, reason)
        return text_answer(200, json.dumps({"code": 0}), "application/json")

    def _dispatch(self, request: WebRequest) -> WebAnswer:
        try:
            body = request.body.decode("utf-8")
        except UnicodeDecodeError:
            self.refusals.refused("slack_malformed", "malformed Slack request", problem="not UTF-8")
            return text_answer(400)
        problem = malformed_request(body, media_type(request.headers))
        if problem is not None:
            self.refusals.refused("slack_malformed", "malformed Slack request", problem=problem)
            return text_answer(400)
        try:
            bolt_request = BoltRequest(
                body=body, query=request.query, headers=dict(request.headers)
            )
            response = self.runtime.app.dispatch(bolt_request)
        except Exception as exc:  # noqa: BLE001
            # Bolt parses the body before it checks the signature, so a body that does not
            # match its content type can fail there: a bad request, not our error.
            self.refusals.refused(
                "slack_unreadable", "unreadable Slack request", error=type(exc).__name__
            )
            return text_answer(400)
        if response.status == 401:
            self.refusals.refused("slack_signature", "Slack request with a bad signature")
        body_bytes = response.body.encode("utf-8")
        headers = [
            (name, value)
            for name, values in response.headers.items()
            if name.lower() != "content-length"
            for value in values
        ]
        headers.append(("Content-Length", str(len(body_bytes))))
        # A forged request is no ack: its body, and so its door, is whatever the sender wrote.
        door = slack_door(bolt_request.body) if response.status != 401 else None
        return WebAnswer(response.status, body_bytes, headers, door=door)
