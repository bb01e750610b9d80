"""Where the stand-ins run: in child processes (the default) or inside the bench process.

Child processes are `multiprocessing` managers: each holds one stand-in and serves method calls
on it through a proxy, so the bench code is the same either way. Each stand-in then has a GIL
of its own, and neither the e签宝 simulator's threads nor the Slack sink's compete with the load
generator's event loop (see bench/RESULTS.md for the measurement behind this default).
"""

from __future__ import annotations

import contextlib
import copy
import multiprocessing
import re
import time
from collections.abc import Iterable, Sequence
from multiprocessing.managers import BaseManager
from pathlib import Path
from typing import Any, Protocol, cast

from stand_ins.esign_simulator import EsignSimulator, catalogue_outline, transport
from stand_ins.slack_sink import Answer, SlackSink

_OUTLINE_PATH = re.compile(r"/v2/identity/auth/api/common/([^/?#]+)/outline")


class SimulatorHost:
    """EsignSimulator with bulk helpers, so tens of thousands of flows take one call.

    `nodelay`: answer with TCP_NODELAY. The simulator's handler (http.server) writes the
    headers and the body of an answer in two sends; with Nagle's algorithm on, the body waits
    for the client's ACK of the headers, which Linux delays by up to 40 ms on a keep-alive
    connection. That is an artefact of the stand-in (it adds ~40 ms to every e签宝 call the
    bot makes), so Nagle is off; the stand-ins' server (stand_ins/http_server.py) turns it off
    itself now, so this only makes sure (see bench/RESULTS.md).
    """

    def __init__(self, nodelay: bool = True) -> None:
        if nodelay:
            # Class attribute of socketserver.StreamRequestHandler, read in setup().
            transport._Handler.disable_nagle_algorithm = True
        self._simulator = EsignSimulator()

    def start(self) -> tuple[str, str, str]:
        """Start; returns (base_url, app_id, app_secret)."""
        self._simulator.start()
        return self._simulator.base_url, self._simulator.app_id, self._simulator.app_secret

    def stop(self) -> None:
        self._simulator.stop()

    def set_latency(self, seconds: float) -> None:
        self._simulator.set_latency(seconds)

    def add_copies(self, template_id: str, flow_ids: Iterable[str]) -> int:
        """Serve a copy of the catalogue flow `template_id` under each of `flow_ids`."""
        template = catalogue_outline(template_id)
        if template is None:
            raise LookupError(f"no catalogue flow {template_id}")
        added = 0
        for flow_id in flow_ids:
            outline = copy.copy(template)
            outline["flowId"] = flow_id
            self._simulator.add_flow(outline)
            added += 1
        return added

    def outline_calls(self, flow_id: str | None = None) -> int:
        return self._simulator.outline_calls(flow_id)

    def outline_calls_for(self, flow_ids: Iterable[str]) -> dict[str, int]:
        return {flow_id: self._simulator.outline_calls(flow_id) for flow_id in set(flow_ids)}

    def reset_stats(self) -> None:
        self._simulator.reset_stats()

    # --- watches ------------------------------------------------------------------------------

    def set_callback_url(self, url: str | None) -> None:
        self._simulator.callback_url = url

    def move_flows(self, template_id: str, flow_ids: Iterable[str], status: str) -> float:
        """Serve each of `flow_ids` as the catalogue flow `template_id` with its flow and
        sub-flow statuses set to `status`; returns time.monotonic() once all of them moved."""
        template = catalogue_outline(template_id)
        if template is None:
            raise LookupError(f"no catalogue flow {template_id}")
        subs = [{**sub, "status": status} for sub in template.get("subFlows") or []]
        for flow_id in flow_ids:
            self._simulator.add_flow(
                {**template, "flowId": flow_id, "flowStatus": status, "subFlows": subs}
            )
        return time.monotonic()

    def move_and_call_back(self, template_id: str, flow_id: str, status: str) -> float:
        """Move one flow, then deliver e签宝's callback for it; returns time.monotonic() just
        before the callback was posted."""
        self.move_flows(template_id, [flow_id], status)
        sent = time.monotonic()
        self._simulator.send_callback(flow_id, success=status == "SUCCESS")
        return sent

    def callbacks_sent(self) -> list[tuple[str, int | None]]:
        return self._simulator.callbacks_sent

    def outline_call_times(self) -> list[tuple[float, str]]:
        """(epoch seconds, flow id) of every outline call answered 200, oldest first (within
        the simulator's request history)."""
        calls = []
        for request in self._simulator.requests():
            found = _OUTLINE_PATH.match(request.path.split("?", 1)[0])
            if found is not None and request.status == 200:
                calls.append((request.time, found.group(1)))
        return calls


class Simulator(Protocol):
    def start(self) -> tuple[str, str, str]: ...
    def stop(self) -> None: ...
    def set_latency(self, seconds: float) -> None: ...
    def add_copies(self, template_id: str, flow_ids: Iterable[str]) -> int: ...
    def outline_calls(self, flow_id: str | None = None) -> int: ...
    def outline_calls_for(self, flow_ids: Iterable[str]) -> dict[str, int]: ...
    def reset_stats(self) -> None: ...
    def set_callback_url(self, url: str | None) -> None: ...
    def move_flows(self, template_id: str, flow_ids: Iterable[str], status: str) -> float: ...
    def move_and_call_back(self, template_id: str, flow_id: str, status: str) -> float: ...
    def callbacks_sent(self) -> list[tuple[str, int | None]]: ...
    def outline_call_times(self) -> list[tuple[float, str]]: ...


class Sink(Protocol):
    def start(self) -> str: ...
    def stop(self) -> None: ...
    def base_url(self) -> str: ...
    def api_url(self) -> str: ...
    def count(self) -> int: ...
    def answers(self, since: int = 0) -> list[Answer]: ...
    def kept(self, key: str) -> dict[str, Any] | None: ...
    def other_texts(self) -> dict[str, int]: ...
    def api_calls(self, since: float = 0.0) -> list[tuple[str, float]]: ...
    def reset(self) -> None: ...
    def add_socket_urls(self, app_token: str, urls: Sequence[str]) -> None: ...


class _SimulatorManager(BaseManager):
    pass


class _SinkManager(BaseManager):
    pass


_SimulatorManager.register("SimulatorHost", SimulatorHost)
_SinkManager.register("SlackSink", SlackSink)


#: The Slack credentials every subject is started with (local stand-ins only).
SIGNING_SECRET = "bench-signing-secret-0123456789"  # noqa: S105 - local stand-ins only
BOT_TOKEN = "xoxb-bench-token-not-real"  # noqa: S105 - local stand-ins only


class StandIns:
    """The e签宝 simulator and the Slack sink, started; close() stops them and their processes."""

    def __init__(self, *, separate_processes: bool, simulator_nodelay: bool = True) -> None:
        self.separate_processes = separate_processes
        self._managers: list[BaseManager] = []
        self.simulator: Simulator
        self.sink: Sink
        if separate_processes:
            context = multiprocessing.get_context("spawn")
            simulator_manager = _SimulatorManager(ctx=context)
            sink_manager = _SinkManager(ctx=context)
            simulator_manager.start()
            self._managers.append(simulator_manager)
            sink_manager.start()
            self._managers.append(sink_manager)
            self.simulator = cast(Simulator, simulator_manager.SimulatorHost(simulator_nodelay))  # type: ignore[attr-defined]
            self.sink = cast(Sink, sink_manager.SlackSink())  # type: ignore[attr-defined]
        else:
            self.simulator = SimulatorHost(simulator_nodelay)
            self.sink = SlackSink()
        self.esign_url, self.app_id, self.app_secret = self.simulator.start()
        self.sink_url = self.sink.start()

    def pids(self) -> list[int]:
        """The child processes' ids (empty when the stand-ins run in the bench process)."""
        pids: list[int] = []
        for manager in self._managers:
            process = getattr(manager, "_process", None)
            pid = getattr(process, "pid", None)
            if isinstance(pid, int):
                pids.append(pid)
        return pids

    def subject_settings(self, log_dir: Path) -> dict[str, str]:
        """What every subject (the bot, the bare app) is told: these stand-ins as e签宝 and
        Slack, an OS-chosen port on loopback, and a state file of the run's own."""
        return {
            "ESIGN_APP_ID": self.app_id,
            "ESIGN_APP_SECRET": self.app_secret,
            "ESIGN_BASE_URL": self.esign_url,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": f"{self.sink_url}/api/",
            "PORT": "0",
            "BIND_HOST": "127.0.0.1",
            "LOG_LEVEL": "WARNING",
            # Watches, recent lookups: a state file of the run's own, not one in the checkout.
            "STATE_DB_PATH": str(log_dir / "state.sqlite3"),
        }

    def close(self) -> None:
        for stop in (self.sink.stop, self.simulator.stop):
            # A child process that died already cannot answer; its manager is shut down below.
            with contextlib.suppress(Exception):
                stop()
        for manager in reversed(self._managers):
            manager.shutdown()
        self._managers.clear()
