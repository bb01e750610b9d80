from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.state.shared.connection import redis_client
from bot.state.shared.health import SharedRedis
from tests.redis_server import ClusterSet, Engine, RedisServer, require_redis_server


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    require_redis_server()
    server = RedisServer(Path(tmp_path_factory.mktemp("redis"))).start()
    yield server
    server.kill()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    redis_server.flush()
    return redis_server.url


@pytest.fixture
def shared(redis_url: str) -> Iterator[SharedRedis]:
    client = SharedRedis(redis_client(redis_url), location="test", recheck_seconds=0.2)
    yield client
    client.close()


@pytest.fixture(params=["redis", "cluster"])
def redis_engine(request: pytest.FixtureRequest) -> Engine:
    """Each test once on one Redis server and once on a 3-primary Redis Cluster."""
    made: RedisServer | ClusterSet = request.getfixturevalue(
        "redis_cluster" if request.param == "cluster" else "redis_server"
    )
    return made.engine()
