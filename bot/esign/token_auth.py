"""e签宝's older token auth (OAuth2 client credentials), kept for apps that still use it.

Fetching a token cuts the previous token's life to five minutes on e签宝's side, so this class
fetches once for all threads, reuses the token until five minutes before it expires, and only
then refreshes it. Given a `TokenShare` (Redis), it does the same for all processes of the app:
one of them fetches under a shared lock, the others take that token.

The auth flow never holds a lock while a request is out (httpx's generator contract: a flow can
be abandoned at any `yield`): one thread claims the fetch and the others wait on a condition.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Protocol

import httpx

from bot.esign.errors import EsignUnavailable, GatewayRejected, UnavailableReason
from bot.esign.signing import APP_ID_HEADER, JSON_CONTENT_TYPE

TOKEN_HEADER = "X-Tsign-Open-Token"  # noqa: S105 (a header name)
REFRESH_MARGIN_SECONDS = 5 * 60
#: How often a process waiting for another process's fetch looks for the new token.
SHARE_POLL_SECONDS = 0.05

log = logging.getLogger(__name__)
_SECRET_PARAM = re.compile(r"((?:secret|refreshToken)=)[^&\s\"']+")

Flow = Generator[httpx.Request, httpx.Response, None]


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
class AccessToken:
    value: str
    refresh_token: str | None
    expires_at: float  # epoch seconds


class TokenShare(Protocol):
    """Where the processes of one app keep their token. No method raises: when the share is
    unreachable, `load` finds nothing and `claim_refresh` lets this process fetch its own."""

    #: How long another process's fetch may take before this one stops waiting for it.
    wait_seconds: float

    def load(self) -> AccessToken | None: ...

    def save(self, token: AccessToken) -> None: ...

    def claim_refresh(self) -> str | None:
        """A claim when this process may fetch now, None while another process is fetching."""
        ...

    def release_refresh(self, claim: str) -> None: ...


class TokenAuth(httpx.Auth):
    def __init__(
        self,
        app_id: str,
        app_secret: str,
        *,
        base_url: str,
        clock: Callable[[], float] = time.time,
        share: TokenShare | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._app_id = app_id
        self._secret = app_secret
        self._base_url = httpx.URL(base_url)
        self._clock = clock
        self._share = share
        self._monotonic = monotonic
        self._sleep = sleep
        self._changed = threading.Condition()
        self._token: AccessToken | None = None
        self._fetching = False
        self.fetches = 0

    def __repr__(self) -> str:
        return f"TokenAuth(app_id={self._app_id!r})"

    def auth_flow(self, request: httpx.Request) -> Flow:
        raise NotImplementedError("TokenAuth blocks while a token is fetched: use httpx.Client")

    def sync_auth_flow(self, request: httpx.Request) -> Flow:
        token = yield from self._usable_token(refused=None)
        response = yield self._authorize(request, token)
        if response.status_code != 401:
            return
        response.read()
        if "TOKEN" in response.text.upper():
            # e签宝 dropped the token early (another process fetched one): replace it once.
            token = yield from self._usable_token(refused=token)
            yield self._authorize(request, token)

    def _usable(self, token: AccessToken | None, refused: AccessToken | None) -> bool:
        return (
            token is not None
            and self._clock() < token.expires_at - REFRESH_MARGIN_SECONDS
            and (refused is None or token.value != refused.value)
        )

    def _usable_token(
        self, refused: AccessToken | None
    ) -> Generator[httpx.Request, httpx.Response, AccessToken]:
        """This process's token, or one fetched by exactly one thread while the others wait."""
        with self._changed:
            while not self._usable(self._token, refused):
                if not self._fetching:
                    self._fetching = True
                    break
                self._changed.wait()
            else:
                assert self._token is not None  # noqa: S101 (narrowing: it is usable)
                return self._token
            previous = self._token
        try:
            token = yield from self._shared_or_own(previous, refused)
        finally:
            with self._changed:
                self._fetching = False
                self._changed.notify_all()
        return token

    def _shared_or_own(
        self, previous: AccessToken | None, refused: AccessToken | None
    ) -> Generator[httpx.Request, httpx.Response, AccessToken]:
        share = self._share
        if share is None:
            return (yield from self._obtain(previous))
        give_up_at = self._monotonic() + share.wait_seconds
        while True:
            stored = share.load()
            if self._usable(stored, refused):
                assert stored is not None  # noqa: S101 (narrowing)
                return self._adopt(stored)
            claim = share.claim_refresh()
            if claim is not None:
                try:
                    # Another process may have finished between our look and our claim.
                    stored = share.load()
                    if self._usable(stored, refused):
                        assert stored is not None  # noqa: S101 (narrowing)
                        return self._adopt(stored)
                    token = yield from self._obtain(stored or previous)
                    share.save(token)
                    return token
                finally:
                    share.release_refresh(claim)
            if self._monotonic() >= give_up_at:
                # The fetching process is stuck or gone and its claim has not expired yet.
                return (yield from self._obtain(previous))
            self._sleep(SHARE_POLL_SECONDS)

    def _adopt(self, token: AccessToken) -> AccessToken:
        with self._changed:
            self._token = token
        return token

    def _authorize(self, request: httpx.Request, token: AccessToken) -> httpx.Request:
        request.headers[APP_ID_HEADER] = self._app_id
        request.headers[TOKEN_HEADER] = token.value
        request.headers.setdefault("Content-Type", JSON_CONTENT_TYPE)
        return request

    def _obtain(
        self, previous: AccessToken | None
    ) -> Generator[httpx.Request, httpx.Response, AccessToken]:
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
        response.read()
        self.fetches += 1
        token = self._parse(response)
        if token is None and previous is not None:
            # A refresh can fail once the refresh token is stale: fall back to a fresh token.
            return (yield from self._obtain(None))
        if token is None:
            raise GatewayRejected(response.status_code, "TOKEN错误")
        self._adopt(token)
        log.info("e签宝 access token obtained", extra={"expires_at": token.expires_at})
        return token

    def _parse(self, response: httpx.Response) -> AccessToken | None:
        if response.status_code >= 500:
            raise EsignUnavailable(UnavailableReason.TOKEN_ENDPOINT, status=response.status_code)
        try:
            body = json.loads(response.content)
            data = body["data"]
            if body.get("code") != 0 or not isinstance(data, dict):
                return None
            return AccessToken(
                value=str(data["token"]),
                refresh_token=str(data["refreshToken"]) if data.get("refreshToken") else None,
                expires_at=int(data["expiresIn"]) / 1000,
            )
        except (ValueError, KeyError, TypeError):
            return None
