"""e签宝's status callbacks, received: verified, answered at once, acted on afterwards.

e签宝 wants a 2xx within 5 s and retries otherwise, so the answer never waits on the lookup
that follows; a callback delivered again finds nothing new to tell (see WatchService.observe).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping

from bot.esign.callbacks import CallbackRefused, verify_callback
from bot.watch.service import WatchService

log = logging.getLogger(__name__)


class CallbackReceiver:
    def __init__(
        self,
        service: WatchService,
        *,
        app_id: str,
        app_secret: str,
        run_later: Callable[[Callable[[], None]], None],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._service = service
        self._app_id = app_id
        self._secret = app_secret
        self._run_later = run_later
        self._clock = clock

    def receive(self, headers: Mapping[str, str], query: str, body: bytes) -> tuple[int, str]:
        """The HTTP status and reason for e签宝; the follow-up lookup runs later."""
        try:
            callback = verify_callback(
                app_id=self._app_id,
                secret=self._secret,
                headers=headers,
                query=query,
                body=body,
                now=self._clock(),
            )
        except CallbackRefused as refused:
            # Logged by the web front, counted: forged callbacks come by the thousand.
            return refused.status, refused.reason
        log.info(
            "e签宝 callback received",
            extra={"flows": list(callback.flow_ids), "action": callback.action},
        )
        if callback.flow_ids:
            flow_ids = callback.flow_ids
            self._run_later(lambda: self._service.on_callback(flow_ids))
        return 200, "ok"
