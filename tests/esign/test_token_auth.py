"""Token mode: one token for all threads, reused until 5 minutes before expiry, then refreshed."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from bot.esign.client import EsignClient
from bot.esign.errors import GatewayRejected
from bot.esign.token_auth import TokenAuth

FLOW = "803719636976683872"


class TokenServer:
    """A MockTransport handler with e签宝's token endpoints, counting what it hands out."""

    def __init__(self, clock: list[float], *, slow: float = 0.0) -> None:
        self.clock = clock
        self.slow = slow
        self.issued: list[str] = []
        self.refreshed = 0
        self.valid: set[str] = set()
        self.lock = threading.Lock()

    def _issue(self) -> httpx.Response:
        with self.lock:
            token = f"token-{len(self.issued) + 1}"
            self.issued.append(token)
            self.valid = {token}  # a new token ends the previous one (early, in e签宝)
        expires = int((self.clock[0] + 7200) * 1000)
        data = {"token": token, "expiresIn": str(expires), "refreshToken": f"r-{token}"}
        return httpx.Response(200, json={"code": 0, "message": "成功", "data": data})

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/v1/oauth2/access_token":
            time.sleep(self.slow)
            if request.url.params.get("secret") != "token-secret":
                return httpx.Response(200, json={"code": 10001, "message": "secret错误"})
            return self._issue()
        if path == "/v1/oauth2/refresh_token":
            self.refreshed += 1
            return self._issue()
        if request.headers.get("X-Tsign-Open-Token") not in self.valid:
            return httpx.Response(401, json={"success": False, "code": 401, "message": "TOKEN错误"})
        data = {"flowId": FLOW, "flowStatus": "ING", "subFlows": []}
        return httpx.Response(200, json={"code": 0, "message": "成功", "data": data})


def client_for(server: TokenServer, secret: str = "token-secret") -> tuple[EsignClient, TokenAuth]:
    auth = TokenAuth("app-1", secret, base_url="https://esign.test", clock=lambda: server.clock[0])
    client = EsignClient("https://esign.test", auth, transport=httpx.MockTransport(server))
    return client, auth


def test_concurrent_lookups_fetch_one_token() -> None:
    server = TokenServer([1_700_000_000.0], slow=0.05)
    client, auth = client_for(server)
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda _: client.get_outline(FLOW), range(32)))
    assert all(r.flow_id == FLOW for r in results)
    assert server.issued == ["token-1"]
    assert auth.fetches == 1


def test_token_reused_until_five_minutes_before_expiry_then_refreshed() -> None:
    clock = [1_700_000_000.0]
    server = TokenServer(clock)
    client, _ = client_for(server)
    client.get_outline(FLOW)
    clock[0] += 7200 - 301  # still more than 5 minutes left
    client.get_outline(FLOW)
    assert server.issued == ["token-1"]
    clock[0] += 2  # now inside the 5-minute margin
    client.get_outline(FLOW)
    assert server.issued == ["token-1", "token-2"]
    assert server.refreshed == 1


def test_token_dropped_by_esign_is_replaced_once() -> None:
    server = TokenServer([1_700_000_000.0])
    client, _ = client_for(server)
    client.get_outline(FLOW)
    server.valid = set()  # another process fetched a token: ours died early
    assert client.get_outline(FLOW).flow_id == FLOW
    assert len(server.issued) == 2


def test_wrong_secret_is_a_gateway_rejection_without_the_secret() -> None:
    server = TokenServer([1_700_000_000.0])
    client, _ = client_for(server, secret="wrong-secret-value")
    with pytest.raises(GatewayRejected) as info:
        client.get_outline(FLOW)
    assert "wrong-secret-value" not in str(info.value)
    assert "ESIGN_APP_SECRET" in info.value.hint
