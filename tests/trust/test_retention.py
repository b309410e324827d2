"""Retention: residents whose petitions all ended years ago are anonymised; figures, reports and others stay."""

import csv
import datetime as dt
import io
import json

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.utils import timezone

from appointments import identity
from appointments.booking import appointment_book
from appointments.models import IdempotencyRecord, OutboxMessage, Outcome, Petition, Rating, Resident
from appointments.office.report import report_csv, report_for_actor
from appointments.outcomes.selectors import PetitionSearch, petition_search
from appointments.petitions import resident_find_by_id_number, resident_for_filing
from appointments.retention import retention_due, retention_run
from departments.models import AuditEvent
from scheduler.errors import NotFound
from tests import factories as f

pytestmark = pytest.mark.django_db

NOW = timezone.now()
LONG_AGO = f.local("2020-03-04 10:00")  # 2020-W10, more than five years before now
LAST_YEAR = NOW - dt.timedelta(days=365)


def _file(kiosk, department, *, name, id_number, status, changed, summary="回迁房的房产证一直办不下来。"):
    petition = f.petition(kiosk, department, name=name, id_number=id_number, phone=f.valid_phone(), summary=summary)
    reason = "不属于信访事项，请向法院起诉。" if status == "not_accepted" else ""
    Petition.objects.filter(pk=petition.pk).update(
        status=status, received_at=changed, updated_at=changed, not_accepted_reason=reason
    )
    Resident.objects.filter(pk=petition.resident_id).update(created_at=min(changed, LAST_YEAR))
    return Petition.objects.get(pk=petition.pk)


@pytest.fixture
def residents(kiosk, published, other_department, officer):
    """Old closed, old not accepted, old with one still open, closed only last year, and one still in progress."""
    old_closed_id = f.id_number_for("210104", "19470312", 21)
    people = {
        "old_closed": _file(
            kiosk,
            published,
            name="王秀兰",
            id_number=old_closed_id,
            status="closed",
            changed=LONG_AGO,
            summary=f"王秀兰（身份证{old_closed_id}，电话13840012345）反映回迁房的房产证办不下来。",
        ),
        "old_not_accepted": _file(
            kiosk,
            other_department,
            name="阿依古丽·买买提",
            id_number=f.id_number_for("650102", "19881105", 64),
            status="not_accepted",
            changed=LONG_AGO + dt.timedelta(days=1),
        ),
        "old_and_open": _file(
            kiosk,
            published,
            name="陈志强",
            id_number=f.id_number_for("440106", "20011230", 7),
            status="closed",
            changed=LONG_AGO,
        ),
        "closed_last_year": _file(
            kiosk,
            published,
            name="李娜",
            id_number=f.id_number_for("810000", "19650701", 402),
            status="closed",
            changed=LAST_YEAR,
        ),
        "in_progress": _file(
            kiosk,
            other_department,
            name="Zhang Wei",
            id_number=f.id_number_for("110101", "19920229", 15),
            status="accepted",
            changed=LONG_AGO,
        ),
    }
    # A second petition of 王秀兰, also closed long ago; and one of 陈志强 that is still being handled.
    _file(kiosk, published, name="王秀兰", id_number=old_closed_id, status="closed", changed=LONG_AGO)
    _file(
        kiosk,
        published,
        name="陈志强",
        id_number=people["old_and_open"].resident.id_number,
        status="answered",
        changed=LONG_AGO,
    )
    outcome = Outcome.objects.create(
        petition=people["old_closed"],
        department=published,
        answer="王秀兰同志：经核查，已为您办理房产证，请携带身份证到区政务服务中心领取。",
        recorded_by=officer.staff,
        told_at=LONG_AGO + dt.timedelta(hours=3),
    )
    rating = Rating.objects.create(outcome=outcome, level=Rating.Level.SATISFIED, remark="谢谢，我是王秀兰")
    Rating.objects.filter(pk=rating.pk).update(rated_at=LONG_AGO + dt.timedelta(hours=5))
    Petition.objects.filter(pk=people["old_closed"].pk).update(updated_at=LONG_AGO)
    return {key: Petition.objects.select_related("resident").get(pk=p.pk) for key, p in people.items()}


def _identities(people) -> dict[str, tuple]:
    return {
        key: (p.resident.name, p.resident.phone, p.resident.id_number, p.contact_name, p.contact_phone)
        for key, p in people.items()
    }


def _statistics() -> list[tuple]:
    return list(
        Petition.objects.order_by("pk").values_list(
            "department_id", "category_id", "community_id", "status", "received_at", "updated_at", "resident_id"
        )
    )


def test_only_residents_whose_petitions_all_ended_long_ago_are_anonymised(residents, officer):
    before = _identities(residents)

    report = retention_run(now=NOW)

    assert (report.residents, report.petitions) == (2, 3)
    for key in ("old_closed", "old_not_accepted"):
        resident = Resident.objects.get(pk=residents[key].resident_id)
        assert (resident.name, resident.phone, resident.id_number, resident.id_number_masked) == ("", "", "", "")
        assert resident.anonymised_at is not None
        for petition in resident.petitions.all():
            assert (petition.contact_name, petition.contact_phone) == ("", "")
        with pytest.raises(NotFound):
            resident_find_by_id_number(actor=officer, id_number=before[key][2])
    for key in ("old_and_open", "closed_last_year", "in_progress"):
        petition = Petition.objects.select_related("resident").get(pk=residents[key].pk)
        assert _identities({key: petition})[key] == before[key]
        assert petition.resident.anonymised_at is None


def test_nothing_that_identified_the_person_is_left_in_their_petitions_or_outcomes(residents, officer):
    old = residents["old_closed"]
    number = old.resident.id_number

    retention_run(now=NOW)

    petition = Petition.objects.get(pk=old.pk)
    texts = [petition.summary, Outcome.objects.get(petition=petition).answer, Rating.objects.get().remark]
    for text in texts:
        assert "王秀兰" not in text and number not in text and "13840012345" not in text
    assert "房产证" in petition.summary and "王**" in texts[1]
    assert not petition_search(actor=officer, search=PetitionSearch(text="王秀兰")).exists()
    assert not Resident.objects.filter(id_number_hash__in=identity.lookup_hashes(number)).exists()


def test_the_weekly_report_and_the_petitions_statistics_are_the_same_before_and_after(residents, officer):
    before_stats = _statistics()
    before = report_csv(report_for_actor(actor=officer, iso_year=2020, iso_week=10, today=NOW.date()))
    district = next(csv.DictReader(io.StringIO(before)))
    assert (district["filed"], district["answered"], district["satisfied"]) == ("6", "1", "1")

    retention_run(now=NOW)

    assert report_csv(report_for_actor(actor=officer, iso_year=2020, iso_week=10, today=NOW.date())) == before
    assert _statistics() == before_stats


def test_one_audit_event_records_the_run_with_counts_and_no_personal_data(residents):
    before = _identities(residents)

    retention_run(now=NOW)

    events = AuditEvent.objects.filter(action="retention.run")
    assert events.count() == 1
    detail = json.dumps(events.get().detail, ensure_ascii=False)
    assert events.get().detail["residents"] == 2
    for values in before.values():
        for value in values:
            assert value not in detail and value[-8:] not in detail


def test_a_second_run_finds_nothing_more_to_do(residents):
    retention_run(now=NOW)
    stored = list(Resident.objects.order_by("pk").values_list("id_number_hash", "anonymised_at"))

    again = retention_run(now=NOW + dt.timedelta(hours=1))

    assert (again.residents, again.petitions) == (0, 0)
    assert list(Resident.objects.order_by("pk").values_list("id_number_hash", "anonymised_at")) == stored


def test_an_anonymised_person_who_comes_back_is_registered_afresh(residents):
    number = residents["old_closed"].resident.id_number
    retention_run(now=NOW)

    again = resident_for_filing(actor=None, name="王秀兰", phone=f.valid_phone(), id_number=number)

    assert again.pk != residents["old_closed"].resident_id and again.id_number == number


def test_the_dry_run_prints_counts_and_changes_nothing(residents):
    before = _identities(residents)
    out = io.StringIO()

    call_command("retention", "--dry-run", stdout=out)

    assert "Would anonymise 2 residents (3 petitions)" in out.getvalue()
    refreshed = {key: Petition.objects.get(pk=p.pk) for key, p in residents.items()}
    assert _identities(refreshed) == before
    assert not AuditEvent.objects.filter(action="retention.run").exists()


def test_a_shorter_retention_setting_reaches_more_recent_residents(residents, settings):
    settings.RETENTION_YEARS = 1

    report = retention_run(now=NOW + dt.timedelta(days=2))

    assert report.residents == 3  # last year's closed petition is now past the period too


def test_expired_sessions_and_old_idempotency_records_are_cleared(kiosk, open_slots, petition):
    expired, live = SessionStore(), SessionStore()
    expired.set_expiry(-60)
    expired["step"] = "identity"
    expired.save()
    live["step"] = "identity"
    live.save()
    appointment_book(
        actor=kiosk, petition_reference=petition.reference, slot_id=open_slots[0].pk, idempotency_key="k-1"
    )
    old_key = IdempotencyRecord.objects.get()
    IdempotencyRecord.objects.filter(pk=old_key.pk).update(created_at=NOW - dt.timedelta(days=8))
    other = f.petition(kiosk, petition.department, name="刘洋")
    appointment_book(actor=kiosk, petition_reference=other.reference, slot_id=open_slots[1].pk, idempotency_key="k-2")
    OutboxMessage.objects.create(sid="SMold", to="+8613840012345", body="预约已确认")
    OutboxMessage.objects.filter(sid="SMold").update(created_at=LONG_AGO)

    report = retention_run(now=NOW)

    assert (report.sessions, report.idempotency_records, report.outbox_messages) == (1, 1, 1)
    assert list(Session.objects.values_list("session_key", flat=True)) == [live.session_key]
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["k-2"]
    assert not OutboxMessage.objects.exists()


def test_the_worker_runs_retention_once_a_day(residents):
    assert retention_due(now=NOW)

    retention_run(now=NOW)

    assert not retention_due(now=timezone.now() + dt.timedelta(hours=1))
    assert retention_due(now=timezone.now() + dt.timedelta(days=1))
