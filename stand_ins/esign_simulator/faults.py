"""What can be made to go wrong, and how slow the simulator answers.

A `Fault` says what the next outline answer(s) look like instead of the normal one. Faults that
e签宝's gateway would produce (401, 403, 429) answer before the request counts as an outline
call; the rest happen "behind" the gateway, after the call was counted.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar


class FaultKind(StrEnum):
    TIMEOUT = "TIMEOUT"  # hold the connection, never answer, then close it
    CONNECTION_RESET = "CONNECTION_RESET"  # reset the connection without any response
    RESET_MID_BODY = "RESET_MID_BODY"  # headers with Content-Length, half the body, close
    HTTP_500_HTML = "HTTP_500_HTML"
    HTTP_502 = "HTTP_502"
    HTTP_503 = "HTTP_503"
    HTTP_504 = "HTTP_504"
    BROKEN_JSON = "BROKEN_JSON"  # 200 with a truncated JSON body
    WRONG_SHAPE = "WRONG_SHAPE"  # 200, code 0, but `data` is a list
    MISSING_CODE = "MISSING_CODE"  # 200, a proper `data` object, but no `code`
    RATE_LIMITED = "RATE_LIMITED"  # 429, JSON body, Retry-After: 1
    HUGE_FAIL_REASON = "HUGE_FAIL_REASON"  # 200 outline whose failReason is 100,000 characters
    GATEWAY_401 = "GATEWAY_401"  # 401 with a chosen gateway reason
    IP_403 = "IP_403"  # 403 IP白名单不匹配


#: The 401 reasons e签宝's gateway is known to give.
GATEWAY_401_REASONS = (
    "INVALID_SIGNATURE",
    "INVALID_TIMESTAMP",
    "无效的应用",
    "AUTHSTRATEGY_NOT_FOUND",
    "缺少参数",
    "TOKEN错误",
)

_AT_GATEWAY = frozenset({FaultKind.GATEWAY_401, FaultKind.IP_403, FaultKind.RATE_LIMITED})


@dataclass(frozen=True, slots=True)
class Fault:
    """One kind of misbehaviour; `reason` is only used by GATEWAY_401.

    Use the constants (`Fault.HTTP_503`) or `Fault.gateway_401("INVALID_TIMESTAMP")`.
    """

    kind: FaultKind
    reason: str = ""

    TIMEOUT: ClassVar[Fault]
    CONNECTION_RESET: ClassVar[Fault]
    RESET_MID_BODY: ClassVar[Fault]
    HTTP_500_HTML: ClassVar[Fault]
    HTTP_502: ClassVar[Fault]
    HTTP_503: ClassVar[Fault]
    HTTP_504: ClassVar[Fault]
    BROKEN_JSON: ClassVar[Fault]
    WRONG_SHAPE: ClassVar[Fault]
    MISSING_CODE: ClassVar[Fault]
    RATE_LIMITED: ClassVar[Fault]
    HUGE_FAIL_REASON: ClassVar[Fault]
    GATEWAY_401: ClassVar[Fault]  # with INVALID_SIGNATURE; see gateway_401() for the others
    IP_403: ClassVar[Fault]

    @classmethod
    def gateway_401(cls, reason: str = "INVALID_SIGNATURE") -> Fault:
        """A 401 from the gateway with this reason (any text, so new reasons can be tried)."""
        return cls(FaultKind.GATEWAY_401, reason)

    @property
    def at_gateway(self) -> bool:
        """Whether e签宝 would answer this before the identity service sees the call."""
        return self.kind in _AT_GATEWAY

    def __str__(self) -> str:
        return f"{self.kind.value}({self.reason})" if self.reason else self.kind.value


Fault.TIMEOUT = Fault(FaultKind.TIMEOUT)
Fault.CONNECTION_RESET = Fault(FaultKind.CONNECTION_RESET)
Fault.RESET_MID_BODY = Fault(FaultKind.RESET_MID_BODY)
Fault.HTTP_500_HTML = Fault(FaultKind.HTTP_500_HTML)
Fault.HTTP_502 = Fault(FaultKind.HTTP_502)
Fault.HTTP_503 = Fault(FaultKind.HTTP_503)
Fault.HTTP_504 = Fault(FaultKind.HTTP_504)
Fault.BROKEN_JSON = Fault(FaultKind.BROKEN_JSON)
Fault.WRONG_SHAPE = Fault(FaultKind.WRONG_SHAPE)
Fault.MISSING_CODE = Fault(FaultKind.MISSING_CODE)
Fault.RATE_LIMITED = Fault(FaultKind.RATE_LIMITED)
Fault.HUGE_FAIL_REASON = Fault(FaultKind.HUGE_FAIL_REASON)
Fault.GATEWAY_401 = Fault.gateway_401("INVALID_SIGNATURE")
Fault.IP_403 = Fault(FaultKind.IP_403)


@dataclass(slots=True)
class _Injected:
    fault: Fault
    flow_id: str | None
    remaining: int | None  # None: until cleared


class FaultBook:
    """Thread-safe list of injected faults, plus faults that always apply to given flow ids."""

    def __init__(self, standing: dict[str, Fault] | None = None) -> None:
        self._lock = threading.Lock()
        self._injected: list[_Injected] = []
        self._standing = dict(standing or {})

    def inject(self, fault: Fault, flow_id: str | None = None, times: int | None = None) -> None:
        if times is not None and times < 1:
            raise ValueError("times must be at least 1 (or None for 'until cleared')")
        with self._lock:
            self._injected.append(_Injected(fault, flow_id, times))

    def clear(self) -> None:
        """Drop injected faults; the catalogue's fault ids keep misbehaving."""
        with self._lock:
            self._injected.clear()

    def forget_standing(self, flow_id: str) -> None:
        """Stop a catalogue fault id from misbehaving (a real flow was loaded under its id)."""
        with self._lock:
            self._standing.pop(flow_id, None)

    def take(self, flow_id: str, *, at_gateway: bool) -> Fault | None:
        """The fault for this call, using up one of its `times`.

        Faults injected for this flow come before global ones, older before newer; the
        catalogue's standing faults apply only when nothing was injected.
        """
        with self._lock:
            for scope in (flow_id, None):
                for entry in self._injected:
                    if entry.flow_id == scope and entry.fault.at_gateway == at_gateway:
                        self._use(entry)
                        return entry.fault
            standing = self._standing.get(flow_id)
        return standing if standing is not None and standing.at_gateway == at_gateway else None

    def _use(self, entry: _Injected) -> None:
        if entry.remaining is None:
            return
        entry.remaining -= 1
        if entry.remaining == 0:
            self._injected.remove(entry)


class LatencyBook:
    """Answer delay in seconds: a per-flow value overrides the global one."""

    def __init__(self, default: float = 0.0) -> None:
        self._lock = threading.Lock()
        self._global = _non_negative(default)
        self._per_flow: dict[str, float] = {}

    def set(self, seconds: float, flow_id: str | None = None) -> None:
        with self._lock:
            if flow_id is None:
                self._global = _non_negative(seconds)
            else:
                self._per_flow[flow_id] = _non_negative(seconds)

    def clear_overrides(self) -> None:
        with self._lock:
            self._per_flow.clear()

    def for_flow(self, flow_id: str) -> float:
        with self._lock:
            return self._per_flow.get(flow_id, self._global)


def _non_negative(seconds: float) -> float:
    if seconds < 0:
        raise ValueError("latency cannot be negative")
    return float(seconds)
