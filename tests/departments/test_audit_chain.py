"""The audit trail is append-only in the database and hash-chained, so tampering by someone who gets past the
database's refusal (a superuser turning the triggers off) is still found by `manage.py audit_verify`."""

import re
import threading
from contextlib import contextmanager
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, connections, transaction
from django.db.models import ProtectedError

from departments import audit
from departments.audit import AuditEvent, audit_record, audit_seal, audit_verify, event_hash
from departments.models import StaffMember
from departments.services import Actor
from tests import factories as f

pytestmark = pytest.mark.django_db

TABLE = AuditEvent._meta.db_table
only_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="TRUNCATE, advisory locks and many connections: PostgreSQL only"
)


@pytest.fixture
def trail(department):
    """Seven sealed events by one staff member, oldest first."""
    actor = Actor(staff=f.staff("keeper", StaffMember.Role.DEPARTMENT_ADMIN, department=department))
    events = [
        audit_record(actor=actor, action="rule.update", target=department, detail={"n": n, "说明": ["甲", 1.5, None]})
        for n in range(7)
    ]
    assert audit_seal() == 7
    return events


def verify(*args: str) -> str:
    out = StringIO()
    call_command("audit_verify", *args, stdout=out)
    return out.getvalue()


def verify_fails(*args: str) -> str:
    with pytest.raises(CommandError) as failure:
        verify(*args)
    return str(failure.value)


def names(message: str, event_id: int) -> bool:
    return re.search(rf"#{event_id}(?!\d)", message) is not None


@contextmanager
def triggers_off():
    """Act as a database superuser would: with the append-only triggers out of the way, inside this transaction."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
            yield cursor
            cursor.execute("SET LOCAL session_replication_role = origin")
            return
        cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [TABLE])
        saved = cursor.fetchall()
        assert saved, "the append-only triggers are missing"
        for name, _sql in saved:
            cursor.execute(f'DROP TRIGGER "{name}"')
        yield cursor
        for _name, sql in saved:
            cursor.execute(sql)


@pytest.fixture
def wipe_refused():
    """Take back the test suite's allowance to wipe the trail (it flushes the database between tests)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL departments.audit_wipe = ''")
        yield
        return
    connection.ensure_connection()
    connection.connection.create_function("audit_wipe_allowed", 0, lambda: False)
    yield
    connection.connection.create_function("audit_wipe_allowed", 0, lambda: True)


def refused(sql: str, params=()) -> str:
    with pytest.raises(IntegrityError) as failure, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
    return str(failure.value)


def test_a_clean_trail_verifies_and_prints_its_head(trail):
    out = verify()

    head = AuditEvent.objects.get(seq=7)
    assert f"7:{head.hash}" in out
    assert audit_verify().ok and audit_verify().checked == 7


def test_an_empty_trail_verifies(db):
    assert "0" in verify()


def test_events_are_sealed_in_id_order_each_hash_covering_the_one_before(trail):
    sealed = list(AuditEvent.objects.order_by("seq").values_list("id", "seq", "hash"))

    assert [event_id for event_id, _, _ in sealed] == [event.pk for event in trail]
    assert [seq for _, seq, _ in sealed] == list(range(1, 8))
    assert len({digest for _, _, digest in sealed}) == 7


def test_an_event_is_sealed_as_soon_as_its_transaction_commits(
    department, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(audit, "_next_seal_at", 0.0)
    with django_capture_on_commit_callbacks(execute=True):
        event = audit_record(actor=None, action="rule.update", target=department)

    event.refresh_from_db()
    assert event.seq == 1 and event.hash


def test_a_busy_process_seals_at_most_once_per_interval(department, django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.setattr(audit, "_next_seal_at", 0.0)
    with django_capture_on_commit_callbacks(execute=True):
        first = audit_record(actor=None, action="rule.update", target=department)
    with django_capture_on_commit_callbacks(execute=True):
        second = audit_record(actor=None, action="rule.update", target=department)

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.seq, second.seq) == (1, None)  # the next commit after the interval, or --seal, takes it


def test_verify_with_seal_chains_new_events_first(trail, department):
    audit_record(actor=None, action="rule.update", target=department)
    assert "1" in verify()  # one newer event waits for its seal

    out = verify("--seal")

    assert "8:" in out and not AuditEvent.objects.filter(seq__isnull=True).exists()


def test_verify_streams_the_chain_in_chunks(trail):
    assert audit_verify(chunk=2).checked == 7


def test_an_edited_event_fails_verification_naming_it(trail):
    edited = trail[3]
    with triggers_off() as cursor:
        cursor.execute("UPDATE appointments_auditevent SET detail = '{\"n\": 30}' WHERE id = %s", [edited.pk])

    message = verify_fails()

    assert names(message, edited.pk) and "4" in message
    assert audit_verify().bad_event_id == edited.pk


@pytest.mark.parametrize(
    ("column", "value"),
    [("actor", "staff:999"), ("user_id", None), ("action", "rule.delete"), ("target_id", "999"), ("at", "2020-01-01")],
)
def test_a_change_to_any_field_is_found(trail, column, value):
    with triggers_off() as cursor:
        sql = f"UPDATE appointments_auditevent SET {column} = %s WHERE id = %s"  # noqa: S608 - a fixed list
        cursor.execute(sql, [value, trail[2].pk])

    assert audit_verify().bad_event_id == trail[2].pk


def test_a_rehashed_edit_is_found_at_the_next_event(trail):
    edited = AuditEvent.objects.filter(pk=trail[3].pk).values_list("id", "at", "actor", "user_id", "action")[0]
    previous = AuditEvent.objects.get(seq=3).hash
    forged = event_hash(
        previous=previous, seq=4, values=(*edited, "departments.department", "999", {"n": 3, "说明": ["甲", 1.5, None]})
    )
    with triggers_off() as cursor:
        cursor.execute(
            "UPDATE appointments_auditevent SET target_id = '999', hash = %s WHERE id = %s", [forged, trail[3].pk]
        )

    check = audit_verify()

    assert not check.ok and check.bad_event_id == trail[4].pk and check.problem == "altered"


def test_a_deleted_middle_event_fails_verification_naming_the_one_after_it(trail):
    with triggers_off() as cursor:
        cursor.execute("DELETE FROM appointments_auditevent WHERE id = %s", [trail[3].pk])

    message = verify_fails()

    assert names(message, trail[4].pk)
    check = audit_verify()
    assert (check.bad_event_id, check.problem, check.checked) == (trail[4].pk, "missing", 3)


def test_a_deleted_first_event_is_found(trail):
    with triggers_off() as cursor:
        cursor.execute("DELETE FROM appointments_auditevent WHERE id = %s", [trail[0].pk])

    assert audit_verify().bad_event_id == trail[1].pk


def test_swapped_events_are_found(trail):
    with triggers_off() as cursor:
        swapped = [trail[2].pk, trail[3].pk]
        cursor.execute("UPDATE appointments_auditevent SET seq = seq + 1000 WHERE id IN (%s, %s)", swapped)
        cursor.execute("UPDATE appointments_auditevent SET seq = 1007 - seq WHERE seq IN (1003, 1004)")

    assert audit_verify().bad_event_id in (trail[2].pk, trail[3].pk)


def test_an_event_slipped_into_the_middle_is_found_even_with_a_correct_hash_of_its_own(trail):
    with triggers_off() as cursor:
        for event in reversed(trail[3:]):
            cursor.execute("UPDATE appointments_auditevent SET seq = seq + 1 WHERE id = %s", [event.pk])
    forged = AuditEvent.objects.create(actor="system", action="rule.update", target_type="x", target_id="1")
    values = AuditEvent.objects.filter(pk=forged.pk).values_list(
        "id", "at", "actor", "user_id", "action", "target_type", "target_id", "detail"
    )[0]
    with triggers_off() as cursor:
        digest = event_hash(previous=AuditEvent.objects.get(seq=3).hash, seq=4, values=values)
        cursor.execute("UPDATE appointments_auditevent SET seq = 4, hash = %s WHERE id = %s", [digest, forged.pk])

    assert audit_verify().bad_event_id == trail[3].pk


def test_events_removed_from_the_end_are_found_against_an_anchor_kept_elsewhere(trail):
    head = AuditEvent.objects.get(seq=7)
    with triggers_off() as cursor:
        cursor.execute("DELETE FROM appointments_auditevent WHERE seq >= 6")
    assert audit_verify().ok  # without an anchor the shorter chain is whole

    message = verify_fails("--anchor", f"7:{head.hash}")

    assert "5" in message and "7" in message


def test_a_rewritten_trail_is_found_against_an_anchor(trail):
    head = AuditEvent.objects.get(seq=7)

    assert audit_verify(anchor=(7, head.hash)).ok
    assert audit_verify(anchor=(7, "f" * 64)).problem == "anchor"
    assert "--anchor" in verify_fails("--anchor", "7")


def test_the_database_refuses_to_edit_or_delete_an_event_through_the_orm(trail, department, wipe_refused):
    audit_record(actor=None, action="rule.update", target=department)
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.filter(pk=trail[0].pk).update(action="rule.delete")
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.filter(pk=trail[0].pk).delete()
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.filter(seq__isnull=True).delete()  # not even an unsealed one

    assert AuditEvent.objects.get(pk=trail[0].pk).action == "rule.update"


def test_the_database_refuses_to_edit_or_delete_an_event_in_raw_sql(trail, department, wipe_refused):
    unsealed = audit_record(actor=None, action="rule.update", target=department)

    assert "append-only" in refused("UPDATE appointments_auditevent SET detail = '{}' WHERE id = %s", [trail[1].pk])
    assert "append-only" in refused("UPDATE appointments_auditevent SET action = 'x' WHERE id = %s", [unsealed.pk])
    assert "append-only" in refused("DELETE FROM appointments_auditevent WHERE id = %s", [trail[1].pk])
    assert "append-only" in refused("DELETE FROM appointments_auditevent")


def test_sealing_is_the_one_change_allowed_and_only_once(trail, department):
    unsealed = audit_record(actor=None, action="rule.update", target=department)

    assert refused("UPDATE appointments_auditevent SET seq = 100, hash = %s WHERE id = %s", ["a" * 64, trail[0].pk])
    assert refused("UPDATE appointments_auditevent SET seq = NULL, hash = NULL WHERE id = %s", [trail[0].pk])
    assert refused(
        "UPDATE appointments_auditevent SET seq = 8, hash = %s, target_id = '9' WHERE id = %s", ["a" * 64, unsealed.pk]
    )
    assert audit_seal() == 1


@only_postgresql
def test_postgresql_refuses_to_truncate_the_trail(trail, wipe_refused):
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE waits for no deferred check of this test's rows
    assert "TRUNCATE" in refused("TRUNCATE appointments_auditevent")


def test_a_person_who_acted_cannot_be_deleted_and_the_trail_still_verifies(trail):
    user = get_user_model().objects.get(username="keeper")

    with pytest.raises(ProtectedError, match="AuditEvent"):
        user.delete()

    assert audit_verify().ok and AuditEvent.objects.filter(user=user).count() == 7


@only_postgresql
@pytest.mark.race
@pytest.mark.django_db(transaction=True)
def test_concurrent_transactions_recording_events_still_yield_one_valid_chain(department, monkeypatch):
    monkeypatch.setattr(audit, "SEAL_INTERVAL", 0.0)  # every commit races to seal, against the other inserts
    threads, per_thread = 12, 10
    barrier = threading.Barrier(threads)
    failures = []

    def record(worker: int):
        try:
            barrier.wait()
            for n in range(per_thread):
                with transaction.atomic():
                    audit_record(actor=None, action="rule.update", target=department, detail={"w": worker, "n": n})
                    # A second event and a short wait let transactions commit out of their ids' order.
                    audit_record(actor=None, action="closure.save", target=department)
        except Exception as exc:  # noqa: BLE001 - any failure is itself a test failure
            failures.append(repr(exc))
        finally:
            connections.close_all()

    workers = [threading.Thread(target=record, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    audit_seal()  # the last commits may have found another sealer busy, which then missed them

    check = audit_verify()
    assert not failures
    assert check.ok and check.checked == threads * per_thread * 2 and check.unsealed == 0
