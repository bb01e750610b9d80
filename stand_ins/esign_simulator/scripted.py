"""Flows that move on their own, and the signed callbacks e签宝 sends when such a flow ends.

A scripted flow starts when it is first asked for: INIT, then ING (a sub-flow running) after 30 %
of its script, then its end (SUCCESS or FAIL) at 100 %. At the end the simulator posts a status
callback to the configured URL, signed as e签宝 signs them, and delivers it again after 1 s and
5 s while the receiver does not answer 2xx. Like e签宝 by default, only successes are notified
unless failures are asked for; a watch then finds a failure by polling.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

log = logging.getLogger(__name__)

Outline = dict[str, Any]
APP_ID_HEADER = "X-Tsign-Open-App-Id"
TIMESTAMP_HEADER = "X-Tsign-Open-TIMESTAMP"
SIGNATURE_HEADER = "X-Tsign-Open-SIGNATURE"
ALGORITHM_HEADER = "X-Tsign-Open-SIGNATURE-ALGORITHM"
#: e签宝 retries a callback that got no 2xx: after about 1 s, then 5 s.
RETRY_DELAYS = (0.0, 1.0, 5.0)
ING_AT = 0.3


@dataclass(frozen=True, slots=True)
class Script:
    start: Outline  # INIT
    running: Outline  # ING
    end: Outline  # SUCCESS or FAIL

    @property
    def succeeds(self) -> bool:
        return self.end.get("flowStatus") == "SUCCESS"


def sign_callback(secret: str, timestamp: str, query: str, body: bytes) -> str:
    """e签宝's callback signature: hex HMAC-SHA256 over timestamp + the notify URL's query
    values (keys sorted, values only) + the raw body."""
    values = "".join(value for _, value in sorted(parse_qsl(query, keep_blank_values=True)))
    message = timestamp.encode() + values.encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


class ScriptedFlows:
    def __init__(
        self,
        *,
        app_id: str,
        app_secret: str,
        seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._app_id = app_id
        self._secret = app_secret
        self._seconds = seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._scripts: dict[str, Script] = {}
        self._started: dict[str, float] = {}
        self._timers: list[threading.Timer] = []
        self.callback_url: str | None = None
        self.notify_failures = False
        self.callbacks_sent: list[tuple[str, int | None]] = []

    def add(self, flow_id: str, script: Script) -> None:
        with self._lock:
            self._scripts[flow_id] = script
            self._started.pop(flow_id, None)

    def is_scripted(self, flow_id: str) -> bool:
        with self._lock:
            return flow_id in self._scripts

    def current(self, flow_id: str) -> Outline | None:
        """The flow as it stands now; the first look starts its clock (and its callback)."""
        with self._lock:
            script = self._scripts.get(flow_id)
            if script is None:
                return None
            now = self._clock()
            started = self._started.get(flow_id)
            if started is None:
                started = self._started[flow_id] = now
                timer = threading.Timer(self._seconds, self._ended, args=(flow_id, script))
                timer.daemon = True
                self._timers.append(timer)
                timer.start()
        elapsed = now - started
        if elapsed >= self._seconds:
            return copy.deepcopy(script.end)
        if elapsed >= self._seconds * ING_AT:
            return copy.deepcopy(script.running)
        return copy.deepcopy(script.start)

    def stop(self) -> None:
        with self._lock:
            timers, self._timers = self._timers, []
        for timer in timers:
            timer.cancel()

    def _ended(self, flow_id: str, script: Script) -> None:
        if script.succeeds or self.notify_failures:
            self.send_callback(flow_id, success=script.succeeds)

    def send_callback(
        self, flow_id: str, *, success: bool, extra: dict[str, Any] | None = None
    ) -> None:
        """Deliver e签宝's end-of-flow callback for `flow_id` (retried as e签宝 retries)."""
        url = self.callback_url
        if url is None:
            return
        body = json.dumps(
            {
                "flowId": flow_id,
                "accountId": f"acct-{flow_id[-6:]}",
                "success": success,
                "contextId": f"ctx-{flow_id}",
                "verifycode": "simulated",
                "serviceId": flow_id,
                "status": success,
                "action": "identity_psn_end",
                **(extra or {}),
            },
            separators=(",", ":"),
        ).encode("utf-8")
        for delay in RETRY_DELAYS:
            if delay:
                time.sleep(delay)
            status = self._post(url, body)
            with self._lock:
                self.callbacks_sent.append((flow_id, status))
            if status is not None and 200 <= status < 300:
                return

    def _post(self, url: str, body: bytes) -> int | None:
        timestamp = str(int(self._clock() * 1000))
        query = urlsplit(url).query
        request = urllib.request.Request(  # noqa: S310 (a configured loopback URL)
            url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                APP_ID_HEADER: self._app_id,
                TIMESTAMP_HEADER: timestamp,
                SIGNATURE_HEADER: sign_callback(self._secret, timestamp, query, body),
                ALGORITHM_HEADER: "hmac-sha256",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310
                return int(answer.status)
        except urllib.error.HTTPError as refused:
            return int(refused.code)
        except (urllib.error.URLError, OSError) as exc:
            log.info("callback delivery failed", extra={"error": type(exc).__name__})
            return None
