"""A stand-in outline source for lookup tests: counts its calls, may be slow or fail."""

from __future__ import annotations

import threading
import time

from bot.esign.models import FlowOutline


class CountingSource:
    def __init__(self, delay: float = 0.0, fail: Exception | None = None) -> None:
        self.delay = delay
        self.fail = fail
        self.calls: list[str] = []
        self.lock = threading.Lock()

    def get_outline(self, flow_id: str) -> FlowOutline:
        with self.lock:
            self.calls.append(flow_id)
        time.sleep(self.delay)
        if self.fail is not None:
            raise self.fail
        return FlowOutline.model_validate(
            {"flowId": flow_id, "flowStatus": "ING", "createTime": 1_700_000_000_123}
        )
