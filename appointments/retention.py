"""Retention: anonymise residents whose petitions all ended long ago, and clear old sessions and retry records.

The petitions stay with their department, category, community, dates, statuses and outcomes, so every figure and
weekly report reads the same afterwards; what could identify the person (name, mobile, ID number, and those
written into free text) is removed, and the ID number's hash with it, so the person cannot be found again.
"""

import datetime as dt
from dataclasses import asdict, dataclass
from importlib import import_module

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import CharField, QuerySet, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from departments.audit import audit_record
from departments.models import AuditEvent
from scheduler.log_filters import redact

from . import identity
from .models import (
    FollowUpSlip,
    IdempotencyRecord,
    OutboxMessage,
    Outcome,
    Petition,
    Rating,
    Resident,
    ReviewRequest,
)

# A petition has ended when it is closed or was not accepted; any other status may still bring the resident back.
ENDED_STATUSES = (Petition.Status.CLOSED, Petition.Status.NOT_ACCEPTED)
# A booking retried with the same Idempotency-Key after this long is a new request.
IDEMPOTENCY_KEEP = dt.timedelta(days=7)
# The worker runs retention when the last run is older than this (about once a day, whatever its restarts).
RUN_EVERY = dt.timedelta(hours=23)
AUDIT_ACTION = "retention.run"
BATCH = 200
# Free text that may carry the resident's name, mobile or ID number, by model.
_FREE_TEXT = (
    (Outcome, ("answer", "legal_basis", "correction_reason")),
    (FollowUpSlip, ("decided", "to_check", "findings")),
    (ReviewRequest, ("reason",)),
)


@dataclass
class RetentionReport:
    cutoff: str
    residents: int = 0
    petitions: int = 0
    sessions: int = 0
    idempotency_records: int = 0
    outbox_messages: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def retention_cutoff(*, now: dt.datetime, years: int) -> dt.datetime:
    """The moment `years` years before now (28 February for a 29 February)."""
    try:
        return now.replace(year=now.year - years)
    except ValueError:
        return now.replace(year=now.year - years, day=28)


def residents_due(*, cutoff: dt.datetime) -> QuerySet[Resident]:
    """Residents not yet anonymised whose every petition ended, and last changed, before the cutoff."""
    return (
        Resident.objects.filter(anonymised_at__isnull=True, created_at__lt=cutoff)
        .exclude(petitions__in=Petition.objects.exclude(status__in=ENDED_STATUSES))
        .exclude(petitions__updated_at__gte=cutoff)
        .order_by("pk")
    )


def _text_scrubbed(text: str, names: set[str]) -> str:
    for name in sorted((n for n in names if len(n) >= 2), key=len, reverse=True):
        text = text.replace(name, identity.name_mask(name))
    return redact(text)


def _scrub(model, fields: tuple[str, ...], rows: QuerySet, names_by_petition: dict[int, set[str]]) -> None:
    for row in rows.only("pk", "petition_id", *fields):
        names = names_by_petition.get(row.petition_id, set())
        changed = {f: _text_scrubbed(getattr(row, f), names) for f in fields if getattr(row, f)}
        changed = {f: v for f, v in changed.items() if v != getattr(row, f)}
        if changed:
            model._default_manager.filter(pk=row.pk).update(**changed)


def _anonymise_batch(residents: list[Resident], *, now: dt.datetime) -> int:
    """Remove the personal data of these residents and of their petitions; return how many petitions were touched."""
    ids = [resident.pk for resident in residents]
    petitions = list(Petition.objects.filter(resident_id__in=ids).select_related("resident"))
    names_by_petition = {p.pk: {p.contact_name.strip(), p.resident.name.strip()} for p in petitions}
    for petition in petitions:
        summary = _text_scrubbed(petition.summary, names_by_petition[petition.pk])
        # update(), not save(): updated_at stays the time the petition last changed, as the reports count it.
        Petition.objects.filter(pk=petition.pk).update(
            contact_name="", contact_name_tags="", contact_phone="", contact_phone_hash="", summary=summary
        )
    petition_ids = list(names_by_petition)
    for model, fields in _FREE_TEXT:
        _scrub(model, fields, model.objects.filter(petition_id__in=petition_ids), names_by_petition)
    for rating in (
        Rating.objects.filter(outcome__petition_id__in=petition_ids).exclude(remark="").select_related("outcome")
    ):
        remark = _text_scrubbed(rating.remark, names_by_petition.get(rating.outcome.petition_id, set()))
        if remark != rating.remark:
            Rating.objects.filter(pk=rating.pk).update(remark=remark)
    # The ID hash becomes a marker no keyed hash can equal (it is not hexadecimal), kept unique per row.
    Resident.objects.filter(pk__in=ids).update(
        name="",
        name_tags="",
        phone="",
        phone_hash="",
        id_number_encrypted="",
        id_number_masked="",
        id_number_hash=Concat(Value("anonymised:"), Cast("pk", output_field=CharField())),
        anonymised_at=now,
    )
    return len(petitions)


def _expired_sessions_clear(*, dry_run: bool) -> int:
    engine = import_module(settings.SESSION_ENGINE)
    counted = 0
    if "db" in settings.SESSION_ENGINE:
        from django.contrib.sessions.models import Session

        # Expired by the clock, as clear_expired() decides, whatever `now` a run is given.
        counted = Session.objects.filter(expire_date__lt=timezone.now()).count()
    if not dry_run:
        engine.SessionStore.clear_expired()
    return counted


def retention_run(
    *, now: dt.datetime | None = None, years: int | None = None, dry_run: bool = False
) -> RetentionReport:
    """Anonymise residents past retention, clear expired sessions and old idempotency records; audit it once."""
    now = now or timezone.now()
    years = settings.RETENTION_YEARS if years is None else years
    cutoff = retention_cutoff(now=now, years=years)
    report = RetentionReport(cutoff=cutoff.date().isoformat())
    due = residents_due(cutoff=cutoff)
    old_records = IdempotencyRecord.objects.filter(created_at__lt=now - IDEMPOTENCY_KEEP)
    old_outbox = OutboxMessage.objects.filter(created_at__lt=cutoff)
    if dry_run:
        report.residents = due.count()
        report.petitions = Petition.objects.filter(resident__in=due).count()
        report.idempotency_records = old_records.count()
        report.outbox_messages = old_outbox.count()
        report.sessions = _expired_sessions_clear(dry_run=True)
        return report
    while True:
        with transaction.atomic():
            batch = list(due.select_for_update()[:BATCH])
            if not batch:
                break
            report.petitions += _anonymise_batch(batch, now=now)
            report.residents += len(batch)
    report.idempotency_records = old_records.delete()[0]
    report.outbox_messages = old_outbox.delete()[0]
    report.sessions = _expired_sessions_clear(dry_run=False)
    # Counts and the cutoff only: nothing about whom it concerned.
    audit_record(
        actor=None,
        action=AUDIT_ACTION,
        target=ContentType.objects.get_for_model(Resident),
        detail={**report.as_dict(), "years": years},
    )
    return report


def retention_due(*, now: dt.datetime | None = None) -> bool:
    """Whether the periodic retention run is due (no run recorded in the last RUN_EVERY)."""
    now = now or timezone.now()
    return not AuditEvent.objects.filter(action=AUDIT_ACTION, at__gte=now - RUN_EVERY).exists()
