"""A short-lived, shared cache of each department's open times, for the pages and the API that show them.

Many kiosks show the same departments' times; between two changes the answer is the same. What is kept per
department: the rows of its open slots over the whole booking window with the seats they hold, and its closed
dates; each reader still drops what `now` has made unbookable, so the times shown age correctly. And the facts the
kiosk's day list reads besides (holiday overrides, closures, published weeks), per first day.

Correctness never rests on it: booking locks the slot and checks it again, and decisions (waiting-list offers,
bookings) read the database. A change that frees or takes a seat, publishes, withdraws or closes makes a new
*generation* for the department (or for every department), so readers stop finding what was kept before it:
at once, inside the writing transaction, and again after it commits, so that a reader who read the old rows
meanwhile cannot leave them behind under the new generation. The entries also expire after
`AVAILABILITY_CACHE_SECONDS` (the longest a change made by some path that tells nobody could stay unseen);
0 turns the cache off.
"""

import datetime as dt
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

_EVERY = "all"
_MISSING = object()


@dataclass(frozen=True)
class OpenRows:
    """A department's open slot rows between two moments, and its closed dates over those days."""

    lower: dt.datetime
    upper: dt.datetime
    rows: list[tuple]
    closed: frozenset[dt.date]


def cache_seconds() -> int:
    return max(int(getattr(settings, "AVAILABILITY_CACHE_SECONDS", 0) or 0), 0)


def _generation_key(scope: int | str) -> str:
    return f"availability:generation:{scope}"


def _generations(department_id: int) -> str:
    keys = [_generation_key(_EVERY), _generation_key(department_id)]
    found = cache.get_many(keys)
    values = []
    for key in keys:
        value = found.get(key)
        if value is None:
            # Never seen (or evicted): start one, so no entry kept under an older generation can match.
            value = secrets.token_hex(6)
            if not cache.add(key, value, timeout=None):
                value = cache.get(key) or value
        values.append(value)
    return ":".join(values)


def open_rows_cached(
    *,
    department_id: int,
    span: tuple,
    lower: dt.datetime,
    upper: dt.datetime,
    load: Callable[[dt.datetime], OpenRows],
) -> OpenRows:
    """The department's rows covering [lower, upper): kept ones if fresh enough, else `load(lower)`'s, kept.

    `span` names what the caller asked for (its dates), so that a listing of 31 days and a kiosk's 14 do not take
    turns replacing each other's entry.

    `load(lower)` must return rows for a span starting at `lower` that reaches at least `upper` plus the cache's
    lifetime, so that a later reader (whose window has moved on by at most that much) is still covered.
    """
    seconds = cache_seconds()
    if not seconds:
        return load(lower)
    key = f"availability:open:{department_id}:{_generations(department_id)}:{':'.join(map(str, span))}"
    kept = cache.get(key)
    if isinstance(kept, OpenRows) and kept.lower <= lower and upper <= kept.upper:
        return kept
    fresh = load(lower)
    cache.set(key, fresh, timeout=seconds)
    return fresh


def calendar_cached[T](*, department_id: int, first: dt.date, days: int, load: Callable[[], T]) -> T:
    """The facts the kiosk's day list reads besides the slots (holiday overrides, closures, published weeks) over
    `days` days from `first`: kept ones while no change has come since, else `load()`'s, kept."""
    seconds = cache_seconds()
    if not seconds:
        return load()
    key = f"availability:calendar:{department_id}:{_generations(department_id)}:{first.isoformat()}:{days}"
    kept = cache.get(key, _MISSING)
    if kept is not _MISSING:
        return kept
    fresh = load()
    cache.set(key, fresh, timeout=seconds)
    return fresh


def availability_changed(department_ids: Iterable[int | None]) -> None:
    """Seats, slots, weeks or closures of these departments changed (None: of every department)."""
    if not cache_seconds():
        return
    scopes = {_EVERY if department_id is None else department_id for department_id in department_ids}
    if not scopes:
        return
    _bump(scopes)
    connection_in_transaction = transaction.get_connection().in_atomic_block
    if connection_in_transaction:
        transaction.on_commit(lambda: _bump(scopes), robust=True)


def _bump(scopes: set[int | str]) -> None:
    cache.set_many({_generation_key(scope): secrets.token_hex(6) for scope in scopes}, timeout=None)


def on_department_row_changed(sender, instance, **kwargs) -> None:
    """post_save/post_delete of a slot, a schedule week or a closure (a closure of everyone has no department)."""
    availability_changed([instance.department_id])


def on_calendar_changed(sender, instance, **kwargs) -> None:
    """post_save/post_delete of a holiday override: a day off (or a working day) for every department."""
    availability_changed([None])
