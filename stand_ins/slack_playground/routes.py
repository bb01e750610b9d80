"""The playground as one WSGI callable: Web API, response URLs, the page and its JSON endpoints.

Paths (relative to wherever the callable is mounted):
- `POST /api/<method>`             Slack Web API for the bot (SLACK_API_URL = base + "/api/")
- `POST /response/<token>`         response_url endpoints handed out with each interaction
- `GET  /`, `GET /static/<file>`   the browser playground
- `GET|POST /playground/...`       the page's own JSON endpoints (see ui.py)
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Protocol
from wsgiref.types import StartResponse, WSGIEnvironment

from .http_io import Request, Response, json_response

logger = logging.getLogger(__name__)


class NamedEndpoint(Protocol):
    """Answers the requests under one prefix, given the rest of the path (web_api.WebApi: the
    method name; response_urls.ResponseUrls: the token)."""

    def handle(self, name: str, request: Request, /) -> Response: ...


class Page(Protocol):
    """Answers the page, its static files and its JSON endpoints (ui.PlaygroundPage)."""

    def handle(self, request: Request, /) -> Response: ...


class PlaygroundRoutes:
    """Dispatches by path; every answer is built in memory, then sent."""

    def __init__(self, web_api: NamedEndpoint, response_urls: NamedEndpoint, page: Page):
        self._web_api = web_api
        self._response_urls = response_urls
        self._page = page

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request.from_environ(environ)
        try:
            response = self._route(request)
        except Exception:
            logger.exception("slack playground failed on %s %s", request.method, request.path)
            response = json_response({"ok": False, "error": "playground_internal_error"}, 500)
        return response(start_response)

    def _route(self, request: Request) -> Response:
        path = request.path
        if path.startswith("/api/"):
            if request.method not in ("POST", "GET"):
                return json_response({"ok": False, "error": "method_not_allowed"}, 405)
            return self._web_api.handle(path.removeprefix("/api/"), request)
        if path.startswith("/response/"):
            return self._response_urls.handle(path.removeprefix("/response/"), request)
        if path == "/" or path.startswith(("/static/", "/playground/")):
            return self._page.handle(request)
        return json_response({"ok": False, "error": "not_found"}, 404)
