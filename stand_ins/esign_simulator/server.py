"""`EsignSimulator`: a local stand-in for e签宝's outline endpoint and token endpoints.

It is a real HTTP server on loopback so clients are exercised end to end (connection pool,
timeouts, signing of the bytes actually sent). What it answers is decided here; how it is put on
the wire is `transport`'s job, and the gateway rules are `gateway`'s.
"""

from __future__ import annotations

import copy
import hmac
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, unquote

from stand_ins.esign_simulator.answers import (
    Answer,
    Delivery,
    business_error_answer,
    fault_answer,
    gateway_rejection,
    json_answer,
    not_found,
    outline_answer,
)
from stand_ins.esign_simulator.catalogue import (
    BUSINESS_ERRORS,
    FAULT_FLOWS,
    FLOW_NOT_FOUND,
    SCRIPTED_FLOWS,
    BusinessError,
    Outline,
    catalogue_outlines,
    scripted_stages,
)
from stand_ins.esign_simulator.faults import Fault, FaultBook, FaultKind, LatencyBook
from stand_ins.esign_simulator.gateway import (
    SIM_APP_ID,
    SIM_APP_SECRET,
    Gateway,
    HeaderView,
)
from stand_ins.esign_simulator.scripted import Script, ScriptedFlows
from stand_ins.esign_simulator.tokens import DEFAULT_TOKEN_TTL_SECONDS, IssuedToken, TokenStore
from stand_ins.esign_simulator.transport import IncomingRequest, SimulatorHTTPServer, origin_form

OUTLINE_PATH = re.compile(r"/v2/identity/auth/api/common/([^/?#]+)/outline")
ACCESS_TOKEN_PATH = "/v1/oauth2/access_token"  # noqa: S105 - a URL path
REFRESH_TOKEN_PATH = "/v1/oauth2/refresh_token"  # noqa: S105 - a URL path
#: How long a TIMEOUT fault holds a connection: longer than any sane client timeout, bounded
#: so a forgotten client does not pin a thread forever. stop() ends the hold at once.
DEFAULT_TIMEOUT_HOLD_SECONDS = 30.0
#: How long a scripted flow takes from its first look to its end.
DEFAULT_SCRIPT_SECONDS = 40.0
#: Enough history for any one test; a long local session (the playground runs the simulator in
#: the bot's own process) keeps only the latest, at roughly 0.6 KB a request. (The per-flow
#: call counts still grow, by one small entry per distinct flow id asked for.)
MAX_RECORDED_REQUESTS = 20_000


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    method: str
    path: str  # the request target as received: path and raw query
    headers: dict[str, str]  # first value of each header, names as sent
    status: int | None  # None: still open, or no answer was sent (timeout, reset)
    time: float  # epoch seconds when it arrived


class EsignSimulator:
    """e签宝's gateway and identity outline endpoint on 127.0.0.1; start() before use."""

    def __init__(
        self,
        *,
        app_id: str = SIM_APP_ID,
        app_secret: str = SIM_APP_SECRET,
        host: str = "127.0.0.1",
        port: int = 0,
        flows_file: str | Path | None = None,
        latency: float = 0.0,
        token_ttl_seconds: float = DEFAULT_TOKEN_TTL_SECONDS,
        timeout_hold_seconds: float = DEFAULT_TIMEOUT_HOLD_SECONDS,
        script_seconds: float = DEFAULT_SCRIPT_SECONDS,
        callback_url: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        self._host = host
        self._port = port
        self._flows_file = Path(flows_file) if flows_file is not None else None
        self._timeout_hold = timeout_hold_seconds
        self._clock = clock
        self._tokens = TokenStore(clock, token_ttl_seconds)
        self._gateway = Gateway(app_id, app_secret, self._tokens, clock)
        self._faults = FaultBook(FAULT_FLOWS)
        self._latency = LatencyBook(latency)
        self._scripted = ScriptedFlows(
            app_id=app_id, app_secret=app_secret, seconds=script_seconds, clock=clock
        )
        self._scripted.callback_url = callback_url
        for flow_id, succeeds in SCRIPTED_FLOWS.items():
            self._scripted.add(flow_id, Script(*scripted_stages(flow_id, succeeds=succeeds)))

        self._lock = threading.Lock()
        self._flows: dict[str, Outline] = catalogue_outlines()
        self._business_errors: dict[str, BusinessError] = dict(BUSINESS_ERRORS)
        self._outline_calls: dict[str, int] = {}
        self._token_fetches = 0
        self._token_refreshes = 0
        self._seen: deque[IncomingRequest] = deque(maxlen=MAX_RECORDED_REQUESTS)

        self._server: SimulatorHTTPServer | None = None
        # Set by stop(): ends latency sleeps and TIMEOUT holds so nothing outlives the server.
        self._stopping = threading.Event()

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> EsignSimulator:
        if self._server is not None:
            raise RuntimeError("the e签宝 simulator is already running")
        if self._flows_file is not None:
            for outline in load_flows_file(self._flows_file):
                self.add_flow(outline)
        self._stopping = threading.Event()
        self._server = SimulatorHTTPServer(self, host=self._host, port=self._port).start()
        return self

    def stop(self) -> None:
        self._scripted.stop()
        server = self._server
        if server is None:
            return
        self._stopping.set()
        server.stop()
        self._server = None

    def serve_forever(self) -> None:
        """Serve until stop() or Ctrl-C (the CLI maps SIGTERM to Ctrl-C)."""
        if self._server is None:
            self.start()
        stopping = self._stopping
        try:
            while not stopping.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def __enter__(self) -> EsignSimulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the e签宝 simulator is not running: call start() first")
        return self._server.server_port

    @property
    def base_url(self) -> str:
        host = self._server.server_name if self._server is not None else self._host
        return f"http://{host}:{self.port}"

    # --- observation ----------------------------------------------------------------------

    def outline_calls(self, flow_id: str | None = None) -> int:
        """Outline requests that passed the gateway, in total or for one flow id."""
        with self._lock:
            if flow_id is None:
                return sum(self._outline_calls.values())
            return self._outline_calls.get(flow_id, 0)

    def requests(self) -> list[RecordedRequest]:
        """Every request seen, oldest first, including rejected and unanswered ones."""
        with self._lock:
            seen = list(self._seen)
        return [
            RecordedRequest(
                method=request.method,
                path=request.target,
                headers=dict(_first_of_each(request.headers)),
                status=request.status,
                time=request.received_at,
            )
            for request in seen
        ]

    @property
    def token_fetches(self) -> int:
        """Successful /v1/oauth2/access_token calls (refreshes are in `token_refreshes`)."""
        with self._lock:
            return self._token_fetches

    @property
    def token_refreshes(self) -> int:
        with self._lock:
            return self._token_refreshes

    def token_expires_at_ms(self, token: str) -> int | None:
        """When an issued token stops working, in epoch ms (None if unknown or expired by hand)."""
        return self._tokens.expires_at_ms(token)

    def reset_stats(self) -> None:
        with self._lock:
            self._outline_calls.clear()
            self._token_fetches = 0
            self._token_refreshes = 0
            self._seen.clear()

    # --- behaviour ------------------------------------------------------------------------

    def set_latency(self, seconds: float, flow_id: str | None = None) -> None:
        """Delay outline answers; a per-flow value overrides the global one."""
        self._latency.set(seconds, flow_id)

    def clear_latency(self) -> None:
        """Back to no delay, globally and for every flow."""
        self._latency.clear_overrides()
        self._latency.set(0.0)

    def inject(self, fault: Fault, flow_id: str | None = None, times: int | None = None) -> None:
        """Make outline calls (for one flow, or all) misbehave `times` times, or until cleared."""
        self._faults.inject(fault, flow_id, times)

    def clear_faults(self) -> None:
        """Remove injected faults (the catalogue's fault ids keep misbehaving)."""
        self._faults.clear()

    def add_flow(self, data: dict[str, Any]) -> None:
        """Serve `data` (an outline `data` object, camelCase) for its flowId from now on."""
        flow_id = data.get("flowId") if isinstance(data, dict) else None
        if not isinstance(flow_id, str) or not flow_id:
            raise ValueError("an outline needs a non-empty string flowId")
        with self._lock:
            self._flows[flow_id] = copy.deepcopy(data)
            self._business_errors.pop(flow_id, None)
        self._faults.forget_standing(flow_id)

    @property
    def callback_url(self) -> str | None:
        """Where status callbacks go when a scripted flow ends (None: nowhere)."""
        return self._scripted.callback_url

    @callback_url.setter
    def callback_url(self, url: str | None) -> None:
        self._scripted.callback_url = url

    def notify_failures(self, enabled: bool = True) -> None:
        """Also send callbacks for flows that fail (e签宝 sends only successes by default)."""
        self._scripted.notify_failures = enabled

    def script_flow(
        self, data: dict[str, Any], running: dict[str, Any], end: dict[str, Any]
    ) -> None:
        """Serve `data`, then `running`, then `end`, timed from the flow's first look."""
        flow_id = data.get("flowId")
        if not isinstance(flow_id, str) or not flow_id:
            raise ValueError("a scripted flow needs a non-empty string flowId")
        self._scripted.add(flow_id, Script(data, running, end))

    def send_callback(
        self, flow_id: str, *, success: bool = True, extra: dict[str, Any] | None = None
    ) -> None:
        """Deliver an end-of-flow callback now, signed and retried as e签宝 does."""
        self._scripted.send_callback(flow_id, success=success, extra=extra)

    @property
    def callbacks_sent(self) -> list[tuple[str, int | None]]:
        """(flow id, HTTP status or None) of each callback delivery attempt, oldest first."""
        return list(self._scripted.callbacks_sent)

    def expire_tokens(self) -> None:
        """Invalidate every issued access token (refresh tokens still work)."""
        self._tokens.expire_all()

    # --- Responder, called by the transport's threads --------------------------------------

    def now(self) -> float:
        return self._clock()

    def received(self, request: IncomingRequest) -> None:
        with self._lock:
            self._seen.append(request)

    def answer(self, request: IncomingRequest) -> Answer:
        path, _, query = origin_form(request.target).partition("?")
        if request.method == "GET" and path == ACCESS_TOKEN_PATH:
            return self._access_token(query)
        if request.method == "GET" and path == REFRESH_TOKEN_PATH:
            return self._refresh_token(query)
        match = OUTLINE_PATH.fullmatch(path)
        if request.method != "GET" or match is None:
            return not_found()
        return self._outline(unquote(match.group(1)), request)

    def _outline(self, flow_id: str, request: IncomingRequest) -> Answer:
        fault = self._faults.take(flow_id, at_gateway=True)
        if fault is not None:
            return fault_answer(fault, self._outline_for_fault(flow_id))
        headers = HeaderView(request.headers)
        rejection = self._gateway.check(
            request.method, headers, origin_form(request.target), request.body
        )
        if rejection is not None:
            return gateway_rejection(rejection.status, rejection.reason)
        with self._lock:
            self._outline_calls[flow_id] = self._outline_calls.get(flow_id, 0) + 1
        if self._stopping.wait(self._latency.for_flow(flow_id)):
            return Answer(0, delivery=Delivery.DROP)  # stopped while waiting
        fault = self._faults.take(flow_id, at_gateway=False)
        if fault is not None:
            if fault.kind is FaultKind.TIMEOUT:
                self._stopping.wait(self._timeout_hold)
            return fault_answer(fault, self._outline_for_fault(flow_id))
        scripted = self._scripted.current(flow_id)
        if scripted is not None:
            return outline_answer(scripted)
        with self._lock:
            outline = self._flows.get(flow_id)
            error = self._business_errors.get(flow_id, FLOW_NOT_FOUND)
        return outline_answer(outline) if outline is not None else business_error_answer(error)

    def _outline_for_fault(self, flow_id: str) -> Outline:
        # Faults that bend an outline need one, also for ids the catalogue does not know.
        with self._lock:
            known = self._flows.get(flow_id)
        if known is not None:
            return known
        return {
            "flowId": flow_id,
            "flowStatus": "ING",
            "objectType": "INDIVIDUAL",
            "contextId": f"fault-{flow_id}",
            "failReason": None,
            "createTime": 1772330400000,
            "modifyTime": 1772330460000,
            "subFlows": [],
            "relatedFlows": [],
        }

    # --- token endpoints (no gateway auth: they are how a client gets auth) -----------------

    def _access_token(self, query: str) -> Answer:
        params = _first_values(query)
        app_id, secret = params.get("appId", ""), params.get("secret", "")
        if not (app_id and secret and params.get("grantType")):
            return _token_error(400, "缺少参数")
        if params["grantType"] != "client_credentials":
            return _token_error(400, "grantType错误")
        if app_id != self.app_id:
            return _token_error(401, "无效的应用")
        if not hmac.compare_digest(secret.encode("utf-8"), self.app_secret.encode("utf-8")):
            return _token_error(401, "secret错误")
        issued = self._tokens.issue(app_id)
        with self._lock:
            self._token_fetches += 1
        return _token_answer(issued)

    def _refresh_token(self, query: str) -> Answer:
        params = _first_values(query)
        app_id, refresh_token = params.get("appId", ""), params.get("refreshToken", "")
        if not (app_id and refresh_token and params.get("grantType")):
            return _token_error(400, "缺少参数")
        if params["grantType"] != "refresh_token":
            return _token_error(400, "grantType错误")
        if app_id != self.app_id:
            return _token_error(401, "无效的应用")
        issued = self._tokens.refresh(app_id, refresh_token)
        if issued is None:
            return _token_error(401, "refreshToken错误")
        with self._lock:
            self._token_refreshes += 1
        return _token_answer(issued)


def _first_values(query: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        values.setdefault(key, value)
    return values


def _token_answer(issued: IssuedToken) -> Answer:
    return json_answer(
        {
            "code": 0,
            "message": "成功",
            "data": {
                "token": issued.token,
                "expiresIn": str(issued.expires_at_ms),
                "refreshToken": issued.refresh_token,
            },
        }
    )


def _token_error(code: int, message: str) -> Answer:
    # HTTP 200 with a non-zero code, like the business endpoints; the codes are the simulator's.
    return json_answer({"code": code, "message": message, "data": None})


def _first_of_each(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """First value of each header name (case-insensitive), keeping the name as sent."""
    seen: set[str] = set()
    first: list[tuple[str, str]] = []
    for name, value in pairs:
        if name.lower() not in seen:
            seen.add(name.lower())
            first.append((name, value))
    return first


def load_flows_file(path: Path) -> list[dict[str, Any]]:
    """Outline `data` objects from a JSON file: a list of them, or {"flows": [...]}."""
    content = json.loads(path.read_text(encoding="utf-8"))
    flows = content.get("flows") if isinstance(content, dict) else content
    if not isinstance(flows, list) or not all(
        isinstance(flow, dict) and isinstance(flow.get("flowId"), str) for flow in flows
    ):
        raise ValueError(
            f"{path}: expected a list of outline objects with a string flowId, "
            'or {"flows": [...]}'
        )
    return flows
