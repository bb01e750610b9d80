"""e签宝 request-signature auth ("请求签名鉴权"), computed from the request as actually sent.

String to sign: method, Accept, Content-MD5, Content-Type, Date, signed headers and the sorted
PathAndParameters, joined by newlines; HMAC-SHA256 with the app secret; Base64.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable, Generator, Iterable, Mapping

import httpx

APP_ID_HEADER = "X-Tsign-Open-App-Id"
AUTH_MODE_HEADER = "X-Tsign-Open-Auth-Mode"
TIMESTAMP_HEADER = "X-Tsign-Open-Ca-Timestamp"
SIGNATURE_HEADER = "X-Tsign-Open-Ca-Signature"
SIGNATURE_HEADERS_HEADER = "X-Tsign-Open-Ca-Signature-Headers"
JSON_CONTENT_TYPE = "application/json; charset=UTF-8"

#: Headers that have their own line in the string to sign, so never go in the Headers block.
_OWN_LINE = {"accept", "content-md5", "content-type", "date"}


def content_md5(body: bytes) -> str:
    """Base64 of the binary MD5 of the body; empty for an empty body."""
    if not body:
        return ""
    # MD5 is what the gateway specifies for body integrity; it is not used for security here.
    return base64.b64encode(hashlib.md5(body).digest()).decode("ascii")  # noqa: S324


def path_and_parameters(raw_path: str) -> str:
    """Path plus query with keys sorted, as e签宝 wants it; values are kept as they stand."""
    path, _, query = raw_path.partition("?")
    if not query:
        return path
    first_values: dict[str, str] = {}
    for pair in query.split("&"):
        if not pair:
            continue
        key, sep, value = pair.partition("=")
        if key not in first_values:
            first_values[key] = value if sep else ""
    params = "&".join(
        f"{key}={value}" if value else key for key, value in sorted(first_values.items())
    )
    return f"{path}?{params}" if params else path


def string_to_sign(
    *,
    method: str,
    accept: str,
    content_md5: str,
    content_type: str,
    date: str,
    signed_headers: Mapping[str, str],
    path_and_params: str,
) -> str:
    lines = [method.upper(), accept, content_md5, content_type, date]
    if signed_headers:
        lines.append("\n".join(f"{k}:{v}" for k, v in sorted(signed_headers.items())))
    lines.append(path_and_params)
    return "\n".join(lines)


def signature(secret: str, message: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def string_to_sign_for(request: httpx.Request, signed_header_names: Iterable[str] = ()) -> str:
    """The string to sign for `request` exactly as httpx will put it on the wire."""
    headers = request.headers
    names = [n for n in signed_header_names if n.lower() not in _OWN_LINE]
    return string_to_sign(
        method=request.method,
        accept=headers.get("Accept", ""),
        content_md5=headers.get("Content-MD5", ""),
        content_type=headers.get("Content-Type", ""),
        date=headers.get("Date", ""),
        signed_headers={name: headers.get(name, "") for name in names},
        path_and_params=path_and_parameters(request.url.raw_path.decode("ascii")),
    )


class SignatureAuth(httpx.Auth):
    """Signs each outgoing request; the signature covers the final headers and raw path."""

    #: The signature covers the body's MD5 (Content-MD5) whenever there is a body, so httpx
    #: must read a streaming body before handing the request over.
    requires_request_body = True

    def __init__(
        self,
        app_id: str,
        app_secret: str,
        *,
        signed_header_names: Iterable[str] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._app_id = app_id
        self._secret = app_secret
        self._signed_header_names = tuple(signed_header_names)
        self._clock = clock

    def __repr__(self) -> str:  # keep the secret out of any debug output
        return f"SignatureAuth(app_id={self._app_id!r})"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        body = request.content
        request.headers[APP_ID_HEADER] = self._app_id
        request.headers[AUTH_MODE_HEADER] = "Signature"
        request.headers[TIMESTAMP_HEADER] = str(int(self._clock() * 1000))
        request.headers.setdefault("Accept", "*/*")
        request.headers.setdefault("Content-Type", JSON_CONTENT_TYPE)
        md5 = content_md5(body)
        if md5:
            request.headers["Content-MD5"] = md5
        if self._signed_header_names:
            request.headers[SIGNATURE_HEADERS_HEADER] = ",".join(self._signed_header_names)
        to_sign = string_to_sign_for(request, self._signed_header_names)
        request.headers[SIGNATURE_HEADER] = signature(self._secret, to_sign)
        yield request
