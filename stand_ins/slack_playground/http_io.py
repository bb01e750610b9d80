"""The small slice of WSGI the playground needs: a parsed request and a buffered response."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs
from wsgiref.types import StartResponse, WSGIEnvironment

#: Nothing the bot or the page sends comes near this; it only stops a runaway client.
MAX_BODY_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    #: The path inside the playground (without the mount prefix).
    path: str
    query: Mapping[str, str]
    #: Header names in lower case.
    headers: Mapping[str, str]
    body: bytes

    @classmethod
    def from_environ(cls, environ: WSGIEnvironment) -> Request:
        headers = {
            key[5:].replace("_", "-").lower(): str(value)
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = str(environ["CONTENT_TYPE"])
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        body = environ["wsgi.input"].read(min(length, MAX_BODY_BYTES)) if length > 0 else b""
        query = {k: v[-1] for k, v in parse_qs(str(environ.get("QUERY_STRING", ""))).items()}
        return cls(
            method=str(environ.get("REQUEST_METHOD", "GET")).upper(),
            path=str(environ.get("PATH_INFO", "") or "/"),
            query=query,
            headers=headers,
            body=body,
        )

    @property
    def media_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def json_object(self) -> dict[str, Any] | None:
        """The body as a JSON object, or None when it is not one."""
        try:
            value = json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None
        return value if isinstance(value, dict) else None

    def form(self) -> dict[str, str]:
        """The body as a form (last value wins, as Slack reads it)."""
        text = self.body.decode("utf-8", errors="replace")
        return {k: v[-1] for k, v in parse_qs(text, keep_blank_values=True).items()}


@dataclass(slots=True)
class Response:
    status: int = 200
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)

    def __call__(self, start_response: StartResponse) -> Iterable[bytes]:
        try:
            reason = HTTPStatus(self.status).phrase
        except ValueError:
            reason = "Unknown"
        headers = [*self.headers, ("Content-Length", str(len(self.body)))]
        start_response(f"{self.status} {reason}", headers)
        return [self.body]


def json_response(
    data: Any, status: int = 200, headers: Iterable[tuple[str, str]] = ()
) -> Response:
    body = json.dumps(data, ensure_ascii=False).encode("utf-8")
    return Response(status, body, [("Content-Type", "application/json; charset=utf-8"), *headers])


def text_response(
    text: str, status: int = 200, headers: Iterable[tuple[str, str]] = ()
) -> Response:
    return Response(
        status, text.encode("utf-8"), [("Content-Type", "text/plain; charset=utf-8"), *headers]
    )


def fault_response(
    status: int, retry_after: int | None, body: str | None, *, default: str
) -> Response:
    """An injected failure: the given status, Retry-After when set, the body (JSON or text)."""
    text = default if body is None else body
    try:
        json.loads(text)
        media = "application/json"
    except ValueError:
        media = "text/plain"
    headers = [("Content-Type", f"{media}; charset=utf-8")]
    if retry_after is not None:
        headers.append(("Retry-After", str(retry_after)))
    return Response(status, text.encode("utf-8"), headers)
