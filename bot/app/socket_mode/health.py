"""The worker's health endpoint (WORKER_HEALTH_PORT): is the Socket Mode link up, since when.

`GET /healthz` answers 200 `{"ok": true, "link_up_seconds": …, "reconnects": …}` while a link
is open and 503 with `"ok": false` while there is none, so a platform's health check restarts a
worker that cannot get back to Slack.
"""

from __future__ import annotations

import json
from typing import Protocol

from bot.app.socket_mode.endpoints import Route


class LinkState(Protocol):
    reconnects: int

    def link_uptime(self) -> float | None: ...


def health_body(link: LinkState) -> tuple[int, dict[str, object]]:
    uptime = link.link_uptime()
    body: dict[str, object] = {
        "ok": uptime is not None,
        "link_up_seconds": None if uptime is None else round(uptime, 1),
        "reconnects": link.reconnects,
    }
    return (200 if uptime is not None else 503), body


def health_route(link: LinkState) -> Route:
    """The worker's GET /healthz, for its endpoint server (endpoints.py)."""

    def answer(authorization: str | None) -> tuple[int, list[tuple[str, str]], bytes]:
        status, body = health_body(link)
        return status, [("Content-Type", "application/json")], json.dumps(body).encode()

    return answer
