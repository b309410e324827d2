"""The health endpoint a load balancer polls: the database, the cache, and a task worker seen lately.

It answers 200 when all three hold and 503 otherwise, naming only which check failed: never an error text, a host
or a version, since anyone who can reach the server can read it.
"""

import logging
import secrets
import time

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger("scheduler.health")
WORKER_HEARTBEAT_KEY = "health:worker-heartbeat"
HEALTH_PROBE_KEY = "health:probe"


def worker_heartbeat_record() -> None:
    """Note in the shared cache that a task worker is alive now (called from the worker's loop)."""
    timeout = settings.HEALTH_WORKER_MAX_AGE_SECONDS * 2
    cache.set(WORKER_HEARTBEAT_KEY, time.time(), timeout=timeout)


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception as error:
        # The type only: load balancers poll often, and a driver's message names hosts and databases.
        logger.warning("Health check: the database did not answer (%s).", type(error).__name__)
        return False


def _cache_ok() -> bool:
    # The cache in production swallows Redis errors (it degrades); only a value read back proves it works.
    probe = secrets.token_hex(8)
    try:
        cache.set(HEALTH_PROBE_KEY, probe, timeout=30)
        return bool(cache.get(HEALTH_PROBE_KEY) == probe)
    except Exception as error:
        logger.warning("Health check: the cache did not answer (%s).", type(error).__name__)
        return False


def _worker_ok() -> bool:
    try:
        seen = cache.get(WORKER_HEARTBEAT_KEY)
    except Exception:
        return False
    return isinstance(seen, int | float) and time.time() - seen <= settings.HEALTH_WORKER_MAX_AGE_SECONDS


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database_ok(), "cache": _cache_ok(), "worker": _worker_ok()}
    healthy = all(checks.values())
    body = {
        "status": "ok" if healthy else "fail",
        "checks": {name: "ok" if ok else "fail" for name, ok in checks.items()},
    }
    return JsonResponse(body, status=200 if healthy else 503)
