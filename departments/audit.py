"""The audit trail: who did what to which record, and when, for every app. Rows are only ever added.

Each event is sealed once into a hash chain (seq, hash), so that `manage.py audit_verify` can prove no event was
altered, removed or moved since. Events are inserted unsealed and chained just after their transaction commits,
so bookings never queue on the chain's head (see docs/audit.md).
"""

import datetime as dt
import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import connection, models, transaction
from django.db.backends.signals import connection_created
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from .services import Actor

GENESIS = "0" * 64
# The hash's layout; a future layout gets a new tag, so old events still verify under the old one.
CHAIN_FORMAT = "audit-v1"
# Any fixed number: the PostgreSQL advisory lock that lets one sealer at a time extend the chain.
SEAL_LOCK = 0x6175646974
SEAL_BATCH = 1000
# A process tries to seal at most this often: a busy server seals in batches instead of once per request, and a
# quiet one still seals each event as it commits. Events left at the end of a burst wait for the next commit or
# for `audit_verify --seal`.
SEAL_INTERVAL = 0.1
_next_seal_at = 0.0
VERIFY_CHUNK = 5000
# The fields a hash covers, in this order, after the previous hash and the event's place in the chain.
HASHED_FIELDS = ("id", "at", "actor", "user_id", "action", "target_type", "target_id", "detail")


class AuditEvent(models.Model):
    """Who did what to which record, and when. Rows are only ever added."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.CharField(max_length=60)
    # PROTECT: a person who acted stays on record; staff leaving are deactivated, not deleted.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=60)
    target_type = models.CharField(max_length=40)
    target_id = models.CharField(max_length=40)
    detail = models.JSONField(default=dict, blank=True)
    # Written once by audit_seal (the database refuses any other change): the place in the chain and its hash.
    seq = models.PositiveBigIntegerField(null=True, blank=True, unique=True, editable=False)
    hash = models.CharField(max_length=64, null=True, blank=True, editable=False)

    class Meta:
        app_label = "departments"
        # The table keeps the name it was created with when the trail lived in appointments.
        db_table = "appointments_auditevent"
        ordering = ["-at"]
        indexes = [
            # A record's history (the petition page) reads its events by target.
            models.Index(fields=["target_type", "target_id", "at"], name="audit_by_target"),
            # The sealer finds the few unsealed events without reading the sealed millions.
            models.Index(fields=["id"], condition=models.Q(seq__isnull=True), name="audit_unsealed"),
            # The office's figures for a past week ask which petitions changed status since it ended.
            models.Index(
                fields=["at"],
                include=["target_id"],
                condition=models.Q(action="petition.status", target_type="appointments.petition"),
                name="audit_status_moves",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(seq__isnull=True, hash__isnull=True)
                | models.Q(seq__isnull=False, hash__isnull=False),
                name="audit_sealed_whole",
            ),
        ]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.target_type}:{self.target_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Audit events are append-only.")
        super().save(*args, **kwargs)


def audit_record(
    *, actor: "Actor | None", action: str, target: models.Model, detail: dict | None = None, user=None
) -> AuditEvent:
    """Record an action on a model instance; detail must hold no personal data."""
    staff = actor.staff if actor else None
    event = AuditEvent.objects.create(
        actor=actor.principal if actor else "system",
        user=user or (staff.user if staff else None),
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        detail=detail or {},
    )
    # After commit, so the booking's own transaction never waits for the chain; robust, so a failed seal
    # (the next one catches up) never turns a saved booking into an error page.
    transaction.on_commit(_seal_after_commit, robust=True)
    return event


def audit_record_many(
    *, actor: "Actor | None", events: list[tuple[str, models.Model, dict | None]], user=None
) -> list[AuditEvent]:
    """Record several actions of one caller, as (action, target, detail), in one INSERT; the same rules apply."""
    staff = actor.staff if actor else None
    rows = AuditEvent.objects.bulk_create(
        AuditEvent(
            actor=actor.principal if actor else "system",
            user=user or (staff.user if staff else None),
            action=action,
            target_type=target._meta.label_lower,
            target_id=str(target.pk),
            detail=detail or {},
        )
        for action, target, detail in events
    )
    transaction.on_commit(_seal_after_commit, robust=True)
    return rows


def event_hash(*, previous: str, seq: int, values: tuple) -> str:
    """Hash one event's stored values (in HASHED_FIELDS order) after the previous event's hash."""
    event_id, at, actor, user_id, action, target_type, target_id, detail = values
    canonical = json.dumps(
        [CHAIN_FORMAT, previous, seq, event_id, _instant(at), actor, user_id, action, target_type, target_id, detail],
        ensure_ascii=False,
        separators=(",", ":"),
        sort_keys=True,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _instant(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).isoformat(timespec="microseconds")


def audit_seal(*, wait: bool = True, batch: int = SEAL_BATCH) -> int:
    """Chain committed unsealed events, in id order, after the chain's head; return how many were sealed.

    With wait=False it gives up at once if another sealer holds the chain (that one, or the next, seals ours).
    """
    sealed = 0
    while True:
        with transaction.atomic():
            if not _seal_lock(wait=wait):
                return sealed
            done = _seal_batch(batch)
        sealed += done
        if done < batch:
            return sealed


def _seal_after_commit() -> None:
    global _next_seal_at
    now = time.monotonic()
    if now < _next_seal_at:
        return
    _next_seal_at = now + SEAL_INTERVAL
    # Cheap when another sealer already took our events: one indexed look-up, no transaction.
    if AuditEvent.objects.filter(seq__isnull=True).exists():
        audit_seal(wait=False, batch=SEAL_BATCH)


def _seal_lock(*, wait: bool) -> bool:
    if connection.vendor != "postgresql":
        # SQLite runs one writer at a time (transactions here begin IMMEDIATE): the chain is already ours.
        return True
    with connection.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SEAL_LOCK])
            return True
        # A seal is derived from events already safely committed: if a crash loses it, the events are simply
        # sealed again. So the request that seals does not wait for a second disk flush (~4 ms here).
        cursor.execute(
            "SELECT set_config('synchronous_commit', 'off', true), pg_try_advisory_xact_lock(%s)", [SEAL_LOCK]
        )
        return bool(cursor.fetchone()[1])


def _seal_batch(batch: int) -> int:
    head = AuditEvent.objects.filter(seq__isnull=False).order_by("-seq").values_list("seq", "hash").first()
    seq, previous = (head[0] or 0, head[1] or GENESIS) if head else (0, GENESIS)
    pending = AuditEvent.objects.filter(seq__isnull=True).order_by("id").values_list(*HASHED_FIELDS)[:batch]
    sealed = []
    # The hash is computed from the values as the database returns them, exactly as audit_verify will read them.
    for values in pending:
        seq += 1
        previous = event_hash(previous=previous, seq=seq, values=values)
        sealed.append((seq, previous, values[0]))
    if sealed:
        # One statement run many times (pipelined by psycopg): bulk_update's CASE expressions cost more to build.
        with connection.cursor() as cursor:
            cursor.executemany("UPDATE appointments_auditevent SET seq = %s, hash = %s WHERE id = %s", sealed)
    return len(sealed)


@dataclass(frozen=True)
class AuditCheck:
    """What audit_verify found: how far the chain holds, and the first event where it does not."""

    checked: int
    unsealed: int
    head_seq: int
    head_hash: str
    bad_event_id: int | None = None
    bad_seq: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem


def audit_verify(*, anchor: tuple[int, str] | None = None, chunk: int = VERIFY_CHUNK) -> AuditCheck:
    """Walk the whole chain in order, streaming, and report the first event that breaks it.

    anchor is a (seq, hash) printed by an earlier run: the chain must still reach it with the same hash,
    which catches events removed from the end (no later event points back to them).
    """
    # Inside a transaction PostgreSQL streams the cursor as it is read; outside one it would first copy the whole
    # result aside (a WITH HOLD cursor).
    with transaction.atomic():
        return _walk(anchor, chunk)


def _walk(anchor: tuple[int, str] | None, chunk: int) -> AuditCheck:
    checked, seq, previous = 0, 0, GENESIS
    for row in _chain(chunk):
        event_seq, stored_hash, values = row[0], row[1], row[2:]
        if event_seq != seq + 1:
            return _broken(checked, seq, previous, values[0], event_seq, "missing")
        if stored_hash != event_hash(previous=previous, seq=event_seq, values=values):
            return _broken(checked, seq, previous, values[0], event_seq, "altered")
        if anchor and event_seq == anchor[0] and stored_hash != anchor[1]:
            return _broken(checked, seq, previous, values[0], event_seq, "anchor")
        checked, seq, previous = checked + 1, event_seq, stored_hash
    if anchor and seq < anchor[0]:
        return _broken(checked, seq, previous, None, anchor[0], "truncated")
    return AuditCheck(checked=checked, unsealed=_unsealed(), head_seq=seq, head_hash=previous)


def _chain(chunk: int) -> Iterator[tuple]:
    # A server-side cursor on PostgreSQL: millions of events pass through in chunks, never all in memory.
    return (
        AuditEvent.objects.filter(seq__isnull=False)
        .order_by("seq")
        .values_list("seq", "hash", *HASHED_FIELDS)
        .iterator(chunk_size=chunk)
    )


def _unsealed() -> int:
    return AuditEvent.objects.filter(seq__isnull=True).count()


def _broken(checked: int, seq: int, previous: str, event_id: int | None, bad_seq: int, problem: str) -> AuditCheck:
    return AuditCheck(
        checked=checked,
        unsealed=_unsealed(),
        head_seq=seq,
        head_hash=previous,
        bad_event_id=event_id,
        bad_seq=bad_seq,
        problem=problem,
    )


def _audit_connection(sender, connection, **kwargs) -> None:
    """Tell a new connection whether it may wipe the trail (only the test suite's flush between tests may)."""
    allowed = bool(getattr(settings, "AUDIT_WIPE_ALLOWED", False))
    if connection.vendor == "sqlite":
        # SQLite has no session settings: its delete trigger asks this function (an unknown function refuses too).
        connection.connection.create_function("audit_wipe_allowed", 0, lambda: allowed, deterministic=True)
    elif connection.vendor == "postgresql" and allowed:
        with connection.connection.cursor() as cursor:
            cursor.execute("SET departments.audit_wipe = 'allow'")


connection_created.connect(_audit_connection, dispatch_uid="departments.audit")
