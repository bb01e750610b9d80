"""The Redis client: short timeouts and no retries, so a dead Redis fails fast."""

from __future__ import annotations

from urllib.parse import urlsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

#: Redis answers in about a millisecond on the same network; anything slower counts as down,
#: and a lookup must never wait on Redis longer than a blink.
CONNECT_TIMEOUT_SECONDS = 0.5
COMMAND_TIMEOUT_SECONDS = 0.5


class RedisUnavailable(Exception):
    """Redis did not answer, or did not a moment ago: use the per-process state instead."""


def redis_client(url: str) -> redis.Redis:
    """A client for `url`. Query parameters in the URL (`?ssl_cert_reqs=none`) win over ours.

    redis-py retries a failed command three times with backoff by default; against a dead
    server that multiplies every timeout, and the fallback is the better retry here.
    """
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
        socket_timeout=COMMAND_TIMEOUT_SECONDS,
        retry=Retry(NoBackoff(), 0),
        decode_responses=True,
        client_name="esign-flow",
    )


def safe_location(url: str) -> str:
    """Where the URL points, for log lines: scheme, host, port and database, never credentials."""
    try:
        parts = urlsplit(url)
        if parts.scheme == "unix":
            return f"unix://{parts.path}"
        host = parts.hostname or "localhost"
        port = parts.port or 6379
    except ValueError:
        return "redis (unparsable URL)"
    database = parts.path.strip("/") or "0"
    return f"{parts.scheme}://{host}:{port}/{database}"
