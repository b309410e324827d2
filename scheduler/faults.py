"""Surviving a database connection lost in the middle of a request (a restart, a failover, a killed backend).

Between requests, CONN_HEALTH_CHECKS reconnects before the first query. Inside a request, only an operation
that is safe to run twice may be retried: a booking with an idempotency key, which returns the first booking if
the lost attempt had committed after all. Nothing else is retried behind the caller's back.
"""

import logging
from collections.abc import Callable

from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections

logger = logging.getLogger("scheduler.faults")
# SQLSTATE classes of a lost connection: 08 connection exception, 57 operator intervention (admin shutdown, crash,
# cannot connect now). A driver-side failure (socket closed, server gone) carries no SQLSTATE at all.
CONNECTION_LOST_SQLSTATE_CLASSES = ("08", "57")


def is_connection_loss(error: BaseException, *, using: str = DEFAULT_DB_ALIAS) -> bool:
    """Tell whether a database error means the connection was lost, rather than the database refusing a query.

    Asked of the error, not of the connection: leaving its transaction, Django has already opened a new one.
    """
    if connections[using].vendor != "postgresql" or not isinstance(error, OperationalError | InterfaceError):
        return False
    if isinstance(error, InterfaceError):
        return True
    sqlstate = getattr(error.__cause__, "sqlstate", None)
    return sqlstate is None or sqlstate[:2] in CONNECTION_LOST_SQLSTATE_CLASSES


def retry_once_if_connection_lost[T](call: Callable[[], T], *, using: str = DEFAULT_DB_ALIAS) -> T:
    """Run `call`; if the database connection was lost under it, reconnect and run it once more.

    Only for a call that owns its transaction (durable) and is idempotent, like a booking with its key.
    """
    connection = connections[using]
    if connection.in_atomic_block:
        return call()  # inside a larger transaction the whole of it is lost, not just this call
    try:
        return call()
    except (OperationalError, InterfaceError) as error:
        if not is_connection_loss(error, using=using):
            raise  # the database answered with an error: not ours to retry
        connection.close()  # whatever Django holds now, start the retry on a fresh, checked connection
        logger.warning("The database connection was lost during an idempotent operation; trying once more.")
        return call()
