"""The soak's faults: an e签宝 simulator it can break, a Slack gate that answers 429, and a Redis
it restarts.

Each runs where the soak can switch it from the bench process:

- `FaultySimulatorHost`: bench.hosts.SimulatorHost plus the simulator's own fault switches
  (stand_ins/esign_simulator/faults.py), in a process of its own like the run's simulator; the
  soak bot talks to this one, so the other scenarios' simulator never sees a fault.
- `SlackGate`: a loopback HTTP gate in front of the run's Slack sink. It forwards everything,
  except that while its 429 window is open it answers chat.postMessage and chat.update with
  429 + Retry-After, as Slack's rate limiter does. Once stand_ins/slack_sink.py has an outage
  switch of its own, `SlackOutage` is the one place to call it instead.
- `RestartableRedis`: the bench's redis-server, restarted on the same port (so REDIS_URL stays
  right) after `SHUTDOWN SAVE`, as an operator restarts Redis: the data comes back from the
  RDB file. A crash that loses the data is scenario 7's "Redis down".
"""

from __future__ import annotations

import contextlib
import http.client
import json
import multiprocessing
import threading
import time
from collections.abc import Iterable
from multiprocessing.managers import BaseManager
from pathlib import Path
from typing import Protocol, cast

import redis

from bench.hosts import Simulator, SimulatorHost
from bench.redis_host import RedisProcess
from stand_ins.esign_simulator import Fault
from stand_ins.http_server import LoopbackHTTPServer, QuietRequestHandler

#: Slack's Web API methods the gate refuses during a 429 window: the ones that carry cards and
#: notices to people (views.publish and conversations.open pass).
RATE_LIMITED_METHODS = frozenset({"chat.postMessage", "chat.update"})
RETRY_AFTER_SECONDS = 1
#: Headers of the sink's answer the gate passes back (the rest it sets itself).
_PASSED_HEADERS = ("Content-Type",)


class FaultySimulatorHost(SimulatorHost):
    """The simulator with its fault book and latency switch reachable through a proxy."""

    def inject_everywhere(self, kind: str) -> None:
        """Every outline call answers with fault `kind` (a FaultKind name) until cleared."""
        self._simulator.inject(getattr(Fault, kind))

    def clear_faults(self) -> None:
        self._simulator.clear_faults()


class FaultySimulator(Simulator, Protocol):
    def inject_everywhere(self, kind: str) -> None: ...
    def clear_faults(self) -> None: ...


class _SimulatorManager(BaseManager):
    pass


_SimulatorManager.register("FaultySimulatorHost", FaultySimulatorHost)


class SoakSimulator:
    """A FaultySimulatorHost in a child process; close() stops both."""

    def __init__(self) -> None:
        self._manager = _SimulatorManager(ctx=multiprocessing.get_context("spawn"))
        self._manager.start()
        self.sim = cast(FaultySimulator, self._manager.FaultySimulatorHost(True))  # type: ignore[attr-defined]
        self.url, self.app_id, self.app_secret = self.sim.start()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.sim.stop()
        self._manager.shutdown()


# --- Slack ------------------------------------------------------------------------------------


class SlackOutage(Protocol):
    """What the soak switches for "Slack answers 429"."""

    def begin(self) -> None: ...
    def end(self) -> None: ...
    def refused(self) -> int: ...


class SlackGate:
    """Forwards to the sink at `sink_url`; refuses RATE_LIMITED_METHODS while begun."""

    def __init__(self, sink_url: str) -> None:
        host_port = sink_url.removeprefix("http://").rstrip("/")
        self._sink_host, _, port = host_port.partition(":")
        self._sink_port = int(port)
        self._lock = threading.Lock()
        self._limited = False
        self._refused = 0
        self._local = threading.local()
        self._server = _GateServer(self)
        self._server.start()

    @property
    def base_url(self) -> str:
        """Also the response URLs' base: the bot posts only to the host its Slack API is on."""
        return self._server.url

    @property
    def api_url(self) -> str:
        return f"{self._server.url}/api/"

    def begin(self) -> None:
        with self._lock:
            self._limited = True

    def end(self) -> None:
        with self._lock:
            self._limited = False

    def refused(self) -> int:
        with self._lock:
            return self._refused

    def close(self) -> None:
        self._server.stop()

    def refuse(self, path: str) -> bool:
        """Whether to answer this request with 429 (and count it)."""
        with self._lock:
            if self._limited and path.removeprefix("/api/") in RATE_LIMITED_METHODS:
                self._refused += 1
                return True
            return False

    def forward(
        self, path: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int, bytes, dict[str, str]]:
        """The sink's answer to the same request, on this thread's keep-alive connection."""
        for attempt in range(2):
            connection = getattr(self._local, "connection", None)
            if connection is None:
                connection = http.client.HTTPConnection(self._sink_host, self._sink_port, 10)
                self._local.connection = connection
            try:
                connection.request("POST", path, body, headers)
                response = connection.getresponse()
                answer = response.read()
            except (OSError, http.client.HTTPException):
                connection.close()
                self._local.connection = None
                if attempt:
                    raise
                continue
            passed = {h: v for h in _PASSED_HEADERS if (v := response.getheader(h)) is not None}
            return response.status, answer, passed
        raise AssertionError("unreachable")


class _GateServer(LoopbackHTTPServer):
    request_queue_size = 1024

    def __init__(self, gate: SlackGate) -> None:
        self.gate = gate
        super().__init__(_GateHandler, name="slack-gate")


class _GateHandler(QuietRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _GateServer

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        gate = self.server.gate
        if gate.refuse(self.path.split("?", 1)[0]):
            answer = json.dumps({"ok": False, "error": "ratelimited"}).encode()
            self._send(429, answer, {"Content-Type": "application/json", "Retry-After": "1"})
            return
        headers = {
            name: value
            for name in ("Content-Type", "Authorization")
            if (value := self.headers.get(name)) is not None
        }
        try:
            status, answer, passed = gate.forward(self.path, body, headers)
        except (OSError, http.client.HTTPException):
            self._send(502, b"sink unreachable", {"Content-Type": "text/plain"})
            return
        self._send(status, answer, passed)

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


# --- Redis ------------------------------------------------------------------------------------


class RestartableRedis(RedisProcess):
    def restart(self, down_seconds: float = 1.0) -> float:
        """SHUTDOWN SAVE, `down_seconds` with nothing on the port, then the same port again;
        returns how long Redis was unreachable (seconds)."""
        port = self.port
        went = time.monotonic()
        # It hangs up as it shuts down.
        with contextlib.suppress(redis.ConnectionError), self._client() as client:
            client.shutdown(save=True)
        self.kill()  # reaps the process (it exited already)
        time.sleep(down_seconds)
        self.start(port=port)
        return time.monotonic() - went


def open_fds(pids: Iterable[int]) -> int:
    """Open file descriptors of `pids` together (from /proc; a pid gone counts 0)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            total += sum(1 for _ in Path(f"/proc/{pid}/fd").iterdir())
    return total
