"""The Redis client, whichever kind (one server, Sentinel, Cluster): short timeouts and no
retries, so a dead Redis fails fast."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

import redis
from redis.backoff import NoBackoff
from redis.cluster import RedisCluster
from redis.retry import Retry
from redis.sentinel import Sentinel

#: Redis answers in about a millisecond on the same network; anything slower counts as down,
#: and a lookup must never wait on Redis longer than a blink.
CONNECT_TIMEOUT_SECONDS = 0.5
COMMAND_TIMEOUT_SECONDS = 0.5


#: What the shared state talks to: one server's (or Sentinel's primary's) client, or a Cluster's.
RedisClient = redis.Redis | RedisCluster

#: `REDIS_SENTINEL_TLS`: plain, TLS verified against the system's CAs (or the CA file given), or
#: TLS with the certificate unchecked (self-signed, as `?ssl_cert_reqs=none` in a URL).
SentinelTls = Literal["off", "on", "no-verify"]


class RedisUnavailable(Exception):
    """Redis did not answer, or did not a moment ago: use the per-process state instead."""


def redis_client(url: str) -> redis.Redis:
    """A client for `url`. Query parameters in the URL (`?ssl_cert_reqs=none`) win over ours.

    redis-py retries a failed command three times with backoff by default; against a dead
    server that multiplies every timeout, and the fallback is the better retry here.
    """
    return redis.Redis.from_url(url, **_quick_and_once())


def cluster_client(url: str) -> RedisCluster:
    """A Cluster client seeded by any node of `url` (it asks that node for the others).

    The same short timeouts and no retries as `redis_client`: a dead node fails its commands
    at once. MOVED and ASK are not failures: the client follows them (up to its own limit of
    redirections per command) whatever its retry count, and refreshes its slot map.
    """
    return RedisCluster.from_url(url, **_quick_and_once())


def _quick_and_once() -> dict[str, Any]:
    """Short timeouts, no retries, text replies, and the bot's name in CLIENT LIST."""
    return {
        "socket_connect_timeout": CONNECT_TIMEOUT_SECONDS,
        "socket_timeout": COMMAND_TIMEOUT_SECONDS,
        "retry": Retry(NoBackoff(), 0),
        "decode_responses": True,
        "client_name": "esign-flow",
    }


def ping(client: RedisClient) -> bool:
    """Every primary of a Cluster (each holds part of the keys), or the one server."""
    if isinstance(client, RedisCluster):
        return bool(client.ping(target_nodes=RedisCluster.PRIMARIES))
    return bool(client.ping())


def drop_connections(client: RedisClient) -> None:
    """Connections to a server that went away are dead; new ones reach it when it returns."""
    if isinstance(client, RedisCluster):
        client.disconnect_connection_pools()  # type: ignore[no-untyped-call]
    else:
        client.connection_pool.disconnect()


RedisKind = Literal["url", "sentinel", "cluster"]


@dataclass(frozen=True, slots=True)
class RedisTarget:
    """Which Redis the processes share, whatever its kind: one server by URL, the primary that
    Sentinel names (and names again after a failover), or a Cluster seeded by one node's URL."""

    kind: RedisKind
    url: str = field(default="", repr=False)
    sentinels: tuple[tuple[str, int], ...] = ()
    master: str = ""
    password: str | None = field(default=None, repr=False)
    sentinel_password: str | None = field(default=None, repr=False)
    #: With Sentinel: TLS to the data nodes and to the sentinels alike.
    tls: SentinelTls = "off"
    tls_ca_certs: str | None = None

    @classmethod
    def from_url(cls, url: str) -> RedisTarget:
        return cls("url", url=url)

    @classmethod
    def cluster(cls, url: str) -> RedisTarget:
        return cls("cluster", url=url)

    def client(self) -> RedisClient:
        """A new client; a Cluster's asks its seed node for the slot map, so this can fail."""
        if self.kind == "url":
            return redis_client(self.url)
        if self.kind == "cluster":
            return cluster_client(self.url)
        return sentinel_client(self)

    @property
    def location(self) -> str:
        """For log lines; never the passwords."""
        if self.kind == "url":
            return safe_location(self.url)
        if self.kind == "cluster":
            return f"{safe_location(self.url).removesuffix('/0')} (cluster)"
        nodes = ",".join(f"{host}:{port}" for host, port in self.sentinels)
        return f"sentinel://{nodes}/{self.master}"


def parse_host_ports(value: str) -> tuple[tuple[str, int], ...]:
    """`host:port,host:port` (IPv6 as `[::1]:26379`); ValueError naming the bad entry."""
    pairs = []
    for entry in (part.strip() for part in value.split(",")):
        if not entry:
            continue
        host, colon, port = entry.rpartition(":")
        host = host.removeprefix("[").removesuffix("]")
        if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"{entry!r} is not host:port (a list like s1:26379,s2:26379)")
        pairs.append((host, int(port)))
    if not pairs:
        raise ValueError("names no sentinel (a list like s1:26379,s2:26379)")
    return tuple(pairs)


def sentinel_client(target: RedisTarget) -> redis.Redis:
    """A client for the primary the sentinels name now.

    It asks the sentinels again whenever it opens a connection, so once the pool is dropped
    (SharedRedis does on a failure) the next command after a failover reaches the new primary.
    The sentinels get the same short timeouts: a dead one must not stall a lookup either.
    """
    quick: dict[str, Any] = {
        "socket_connect_timeout": CONNECT_TIMEOUT_SECONDS,
        "socket_timeout": COMMAND_TIMEOUT_SECONDS,
        "retry": Retry(NoBackoff(), 0),
        **tls_options(target.tls, target.tls_ca_certs),
    }
    sentinel = Sentinel(
        list(target.sentinels),
        sentinel_kwargs={**quick, "password": target.sentinel_password},
        **quick,
    )
    client: redis.Redis = sentinel.master_for(
        target.master,
        password=target.password,
        decode_responses=True,
        client_name="esign-flow",
        **quick,
    )
    return client


def tls_options(tls: SentinelTls, ca_certs: str | None = None) -> dict[str, Any]:
    """redis-py's connection options for `REDIS_SENTINEL_TLS`, the same a `rediss://` URL sets."""
    if tls == "off":
        return {}
    options: dict[str, Any] = {"ssl": True}
    if tls == "no-verify":
        options["ssl_cert_reqs"] = "none"
    else:
        options["ssl_cert_reqs"] = "required"
        if ca_certs:
            options["ssl_ca_certs"] = ca_certs
    return options


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
