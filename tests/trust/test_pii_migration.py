"""The migration that encrypts names and mobiles: rows written in the clear come out encrypted, found, and back."""

import hashlib
import hmac

import pytest
from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from appointments import identity
from appointments.models import OutboxMessage, Petition, Resident
from tests import factories as f

BEFORE = [("appointments", "0009_notifications_waitlist_feeds")]
AFTER = [("appointments", "0010_encrypt_contact_details")]
ID_NUMBER = f.id_number_for("650102", "19881105", 64)
MOBILE = "+8615909912345"


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _raw(sql: str, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@pytest.fixture
def at_0009(transactional_db):
    old_apps = _migrate(BEFORE)
    yield old_apps
    _migrate(list(MigrationExecutor(connection).loader.graph.leaf_nodes()))


def test_clear_rows_are_encrypted_hashed_and_found_after_the_migration_and_clear_again_after_reversing(at_0009):
    old = at_0009
    community = old.get_model("departments", "Community").objects.create(
        code="lanshan",
        name="蓝山社区",
        street=old.get_model("departments", "Street").objects.create(
            code="s",
            name="大东街道",
            district=old.get_model("departments", "District").objects.create(code="d", name="大东区"),
        ),
    )
    department = old.get_model("departments", "Department").objects.create(code="fangchan", name="区房产局")
    # The ID hash as the code before this migration wrote it: HMAC under the field key itself.
    old_hash = hmac.new(settings.FIELD_ENCRYPTION_KEY.encode(), ID_NUMBER.encode(), hashlib.sha256).hexdigest()
    resident = old.get_model("appointments", "Resident").objects.create(
        name="阿依古丽·买买提",
        phone=MOBILE,
        id_number_encrypted=identity.encrypt(ID_NUMBER),
        id_number_hash=old_hash,
        id_number_masked=identity.id_number_mask(ID_NUMBER),
    )
    category, _ = old.get_model("appointments", "PetitionCategory").objects.get_or_create(
        code="housing", defaults={"name": "住房保障"}
    )
    petition = old.get_model("appointments", "Petition").objects.create(
        reference="XF20200101000001",
        query_code="12345678",
        resident=resident,
        contact_name="阿依古丽",
        contact_phone=MOBILE,
        category=category,
        summary="回迁房的房产证一直办不下来。",
        department=department,
        community=community,
    )
    old.get_model("appointments", "OutboxMessage").objects.create(sid="SM1", to=MOBILE, body="预约成功")

    _migrate(AFTER)

    stored = repr(_raw("SELECT name, phone, id_number_hash FROM appointments_resident"))
    stored += repr(_raw("SELECT contact_name, contact_phone FROM appointments_petition"))
    stored += repr(_raw('SELECT "to" FROM appointments_outboxmessage'))
    assert "阿依古丽" not in stored and MOBILE[3:] not in stored and old_hash not in stored
    found = Resident.objects.get(id_number_hash__in=identity.lookup_hashes(ID_NUMBER))
    assert (found.name, found.phone, found.id_number) == ("阿依古丽·买买提", MOBILE, ID_NUMBER)
    assert Resident.objects.get(phone_hash=identity.phone_hash(MOBILE)).pk == resident.pk
    assert Petition.objects.get(contact_name_tags__contains=identity.name_search_tags("古丽")[0]).pk == petition.pk
    assert Petition.objects.get(contact_phone_hash=identity.phone_hash(MOBILE)).contact_name == "阿依古丽"
    assert OutboxMessage.objects.get().to == MOBILE

    _migrate(BEFORE)

    assert _raw("SELECT name, phone, id_number_hash FROM appointments_resident") == [
        ("阿依古丽·买买提", MOBILE, old_hash)
    ]
    assert _raw("SELECT contact_name, contact_phone FROM appointments_petition") == [("阿依古丽", MOBILE)]
