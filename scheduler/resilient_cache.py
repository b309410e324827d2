"""The Redis cache, degraded instead of failing: with Redis away, reads miss and writes are dropped, with a warning.

What the cache holds here (API throttling history, wrong-code counters, the task worker's heartbeat) is worth less
than the booking a resident is making: while Redis is down, limits are not counted and the health check says so.
"""

import logging
import time
from collections.abc import Callable
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger("scheduler.cache")
UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, OSError)
# One warning per process per this many seconds, so an outage does not flood the log.
WARNING_EVERY_SECONDS = 30.0
# Without a timeout a dead Redis host (not just a closed port) would hold each request for the OS's TCP timeout.
DEFAULT_SOCKET_TIMEOUT_SECONDS = 0.5


class _OneClientPerPool(RedisCacheClient):
    """Django's client, keeping one `redis.Redis` per connection pool instead of making one per operation.

    Making one builds its table of ~170 response callbacks each time: 0.2 ms, as long as the GET itself on loopback.
    A `redis.Redis` is safe to share between threads (each command borrows a connection from the pool).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]  # private in the stubs
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return client


class ResilientRedisCache(RedisCache):
    """Django's RedisCache that answers as an empty cache while Redis cannot be reached."""

    _last_warning = 0.0

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        options = dict(params.get("OPTIONS") or {})
        options.setdefault("socket_connect_timeout", DEFAULT_SOCKET_TIMEOUT_SECONDS)
        options.setdefault("socket_timeout", DEFAULT_SOCKET_TIMEOUT_SECONDS)
        super().__init__(server, {**params, "OPTIONS": options})
        self._class = _OneClientPerPool

    def _degraded[T](self, operation: str, call: Callable[[], T], fallback: T) -> T:
        try:
            return call()
        except UNAVAILABLE as error:
            now = time.monotonic()
            if now - ResilientRedisCache._last_warning >= WARNING_EVERY_SECONDS:
                ResilientRedisCache._last_warning = now
                logger.warning(
                    "Redis cannot be reached (%s on %s): the cache is bypassed.", type(error).__name__, operation
                )
            return fallback

    def add(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._degraded("add", lambda: super(ResilientRedisCache, self).add(key, value, timeout, version), False)

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        return self._degraded("get", lambda: super(ResilientRedisCache, self).get(key, default, version), default)

    def set(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> None:
        self._degraded("set", lambda: super(ResilientRedisCache, self).set(key, value, timeout, version), None)

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._degraded("touch", lambda: super(ResilientRedisCache, self).touch(key, timeout, version), False)

    def delete(self, key: Any, version: int | None = None) -> bool:
        return self._degraded("delete", lambda: super(ResilientRedisCache, self).delete(key, version), False)

    def get_many(self, keys: Any, version: int | None = None) -> dict[Any, Any]:
        return self._degraded("get_many", lambda: super(ResilientRedisCache, self).get_many(keys, version), {})

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return self._degraded("has_key", lambda: super(ResilientRedisCache, self).has_key(key, version), False)

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        return self._degraded("incr", lambda: super(ResilientRedisCache, self).incr(key, delta, version), delta)

    def set_many(self, data: dict[Any, Any], timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> list[Any]:
        return self._degraded("set_many", lambda: super(ResilientRedisCache, self).set_many(data, timeout, version), [])

    def delete_many(self, keys: Any, version: int | None = None) -> None:
        self._degraded("delete_many", lambda: super(ResilientRedisCache, self).delete_many(keys, version), None)

    def clear(self) -> None:
        self._degraded("clear", lambda: super(ResilientRedisCache, self).clear(), None)
