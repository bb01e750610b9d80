"""e签宝's older token auth (OAuth2 client credentials), kept for apps that still use it.

Fetching a token cuts the previous token's life to five minutes on e签宝's side, so this class
fetches once for all threads, reuses the token until five minutes before it expires, and only
then refreshes it.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass

import httpx

from bot.esign.errors import EsignUnavailable, GatewayRejected, gateway_hint
from bot.esign.signing import APP_ID_HEADER, JSON_CONTENT_TYPE

TOKEN_HEADER = "X-Tsign-Open-Token"  # noqa: S105 (a header name)
REFRESH_MARGIN_SECONDS = 5 * 60

log = logging.getLogger(__name__)
_SECRET_PARAM = re.compile(r"((?:secret|refreshToken)=)[^&\s\"']+")


class HideTokenSecrets(logging.Filter):
    """The token endpoints take the app secret and refresh token in the query string, and
    httpx logs every request URL at INFO: blank those values in any record it logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _SECRET_PARAM.sub(r"\1[redacted]", str(arg)) if "=" in str(arg) else arg
                for arg in record.args
            )
        return True


# Installed on import, so any process able to fetch a token never logs the secret.
logging.getLogger("httpx").addFilter(HideTokenSecrets())


@dataclass(frozen=True, slots=True)
class _Token:
    value: str
    refresh_token: str | None
    expires_at: float  # epoch seconds


class TokenAuth(httpx.Auth):
    requires_response_body = True

    def __init__(
        self,
        app_id: str,
        app_secret: str,
        *,
        base_url: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._app_id = app_id
        self._secret = app_secret
        self._base_url = httpx.URL(base_url)
        self._clock = clock
        self._lock = threading.Lock()
        self._token: _Token | None = None
        self.fetches = 0

    def __repr__(self) -> str:
        return f"TokenAuth(app_id={self._app_id!r})"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        with self._lock:
            token = self._token
            if token is None or self._clock() >= token.expires_at - REFRESH_MARGIN_SECONDS:
                token = yield from self._obtain(token)
        response = yield self._authorize(request, token)
        if response.status_code == 401 and "TOKEN" in response.text.upper():
            # e签宝 dropped the token early (another process fetched one): get a new one once.
            with self._lock:
                if self._token is token:
                    self._token = None
                    token = yield from self._obtain(None)
                elif self._token is not None:
                    token = self._token
            yield self._authorize(request, token)

    def _authorize(self, request: httpx.Request, token: _Token) -> httpx.Request:
        request.headers[APP_ID_HEADER] = self._app_id
        request.headers[TOKEN_HEADER] = token.value
        request.headers.setdefault("Content-Type", JSON_CONTENT_TYPE)
        return request

    def _obtain(self, previous: _Token | None) -> Generator[httpx.Request, httpx.Response, _Token]:
        if previous is not None and previous.refresh_token:
            url = self._base_url.join("/v1/oauth2/refresh_token").copy_merge_params(
                {
                    "appId": self._app_id,
                    "refreshToken": previous.refresh_token,
                    "grantType": "refresh_token",
                }
            )
        else:
            url = self._base_url.join("/v1/oauth2/access_token").copy_merge_params(
                {"appId": self._app_id, "secret": self._secret, "grantType": "client_credentials"}
            )
        response = yield httpx.Request("GET", url, headers={"Accept": "*/*"})
        self.fetches += 1
        token = self._parse(response)
        if token is None and previous is not None:
            # A refresh can fail once the refresh token is stale: fall back to a fresh token.
            return (yield from self._obtain(None))
        if token is None:
            raise GatewayRejected(response.status_code, "TOKEN错误", gateway_hint("TOKEN错误"))
        self._token = token
        log.info("e签宝 access token obtained", extra={"expires_at": token.expires_at})
        return token

    def _parse(self, response: httpx.Response) -> _Token | None:
        if response.status_code >= 500:
            raise EsignUnavailable(f"e签宝's token endpoint answered HTTP {response.status_code}.")
        try:
            body = json.loads(response.content)
            data = body["data"]
            if body.get("code") != 0 or not isinstance(data, dict):
                return None
            return _Token(
                value=str(data["token"]),
                refresh_token=str(data["refreshToken"]) if data.get("refreshToken") else None,
                expires_at=int(data["expiresIn"]) / 1000,
            )
        except (ValueError, KeyError, TypeError):
            return None
