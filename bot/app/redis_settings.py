"""The checks behind the Redis settings (REDIS_URL, REDIS_SENTINELS…, REDIS_CLUSTER_URL): each
refusal one line that names the setting and never its secret part."""

from __future__ import annotations

import os
from urllib.parse import parse_qs, unquote, urlsplit

import redis

REDIS_SCHEMES = ("redis", "rediss", "unix")
REDIS_CLUSTER_SCHEMES = ("redis", "rediss")
#: Query options of a rediss:// URL that name files the client reads when it connects.
REDIS_TLS_FILES = ("ssl_ca_certs", "ssl_certfile", "ssl_keyfile", "ssl_ca_path")


def sentinel_tls_word(value: object) -> object:
    """`REDIS_SENTINEL_TLS`: off / on / no-verify, and the usual spellings of a yes or a no."""
    if not isinstance(value, str):
        return value
    word = value.strip().lower()
    if word in ("", "0", "false", "no"):
        return "off"
    return "on" if word in ("1", "true", "yes") else word


def check_redis_url(url: str, *, cluster: bool) -> None:
    """ValueError naming what is wrong with a REDIS_URL (or, `cluster`, a REDIS_CLUSTER_URL)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (parsed lazily: a bad port raises here)
    except ValueError:
        raise ValueError("is not a URL (check the host and port)") from None
    scheme = parts.scheme
    if cluster and (scheme not in REDIS_CLUSTER_SCHEMES or not parts.hostname):
        # A Cluster has no socket files and no databases but 0.
        raise ValueError(f"must be redis://host:port or rediss://host:port (not {scheme!r})")
    if cluster and parts.path.strip("/") not in ("", "0"):
        raise ValueError("names a database: a Cluster has only database 0")
    if scheme not in REDIS_SCHEMES:
        # Only the scheme is named: the rest of the URL may hold the password.
        raise ValueError(f"must start with redis://, rediss:// or unix:// (not {scheme!r})")
    try:
        # Parses the options as the client will (it connects only later).
        redis.ConnectionPool.from_url(url)
    except ValueError as exc:
        # redis-py names the option, never its value.
        raise ValueError(f"has a bad option ({exc})") from None
    for option, paths in parse_qs(parts.query).items():
        if option in REDIS_TLS_FILES and not all(os.access(p, os.R_OK) for p in paths):
            raise ValueError(f"names a {option} file that cannot be read")


def check_one_kind(
    *, url: bool, sentinels: bool, cluster: bool, master: bool, sentinel_tls: bool
) -> None:
    """ValueError when the Redis settings set contradict each other (which are set: True)."""
    chosen = [
        name
        for name, chosen in (
            ("REDIS_URL", url),
            ("REDIS_SENTINELS", sentinels),
            ("REDIS_CLUSTER_URL", cluster),
        )
        if chosen
    ]
    if len(chosen) > 1:
        raise ValueError(f"{', '.join(chosen)} are set: set only one of them")
    if sentinel_tls and not sentinels:
        raise ValueError(
            "REDIS_SENTINEL_TLS is for REDIS_SENTINELS (a rediss:// URL is TLS already)"
        )
    if sentinels and not master:
        raise ValueError("REDIS_SENTINELS also needs REDIS_SENTINEL_MASTER (the name)")
    if master and not sentinels:
        raise ValueError("REDIS_SENTINEL_MASTER is set but REDIS_SENTINELS is not")


def url_password_forms(url: str) -> list[str]:
    """A URL's password as written and decoded (as redis-py sends it), for log redaction."""
    try:
        password = urlsplit(url).password
    except ValueError:
        return []
    if not password:
        return []
    return sorted({password, unquote(password)})
