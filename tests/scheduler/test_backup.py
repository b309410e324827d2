"""A backup taken with `manage.py backup` brings every table back exactly with `manage.py restore`."""

import hashlib
import io
import os
import re
import stat
import subprocess

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone, translation

from appointments.booking import appointment_book
from departments.models import ApiToken, Department, StaffMember
from scheduler.selectors import slot_list_open
from tests import factories as f

on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_dump/pg_restore: PostgreSQL only")


def database_state() -> dict[str, tuple[int, str]]:
    """Row count and a hash of all rows ordered by primary key, for every table (models, m2m, Django's own), and
    the sequences, triggers (the audit trail's append-only guard) and indexes: what a restore must bring back."""
    quote = connection.ops.quote_name
    state = {}
    with connection.cursor() as cursor:
        tables = set(connection.introspection.table_names(cursor))
        model_tables = {model._meta.db_table for model in apps.get_models(include_auto_created=True)}
        assert model_tables <= tables, "every model and many-to-many table is compared"
        for table in sorted(tables):
            pk = connection.introspection.get_primary_key_column(cursor, table)
            order = f" ORDER BY {quote(pk)}" if pk else ""
            cursor.execute(f"SELECT * FROM {quote(table)}{order}")  # noqa: S608 - table names from introspection
            rows = [tuple(bytes(v) if isinstance(v, memoryview) else v for v in row) for row in cursor.fetchall()]
            if not pk:
                rows.sort(key=repr)
            state[table] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
        if connection.vendor == "postgresql":
            cursor.execute("SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'")
            state["sequences"] = (0, repr(sorted(cursor.fetchall())))
            cursor.execute(
                "SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal"
            )
            state["triggers"] = (0, repr(sorted(cursor.fetchall())))
            # Not indexdef verbatim: PostgreSQL re-parses a partial index's WHERE into an equal but differently
            # written expression (`ARRAY[...]::text[]` becomes `ARRAY[(...)::text, ...]`).
            cursor.execute(
                "SELECT tablename, indexname, indexdef LIKE 'CREATE UNIQUE %', indexdef LIKE '% WHERE %'"
                " FROM pg_indexes WHERE schemaname = 'public'"
            )
            state["indexes"] = (0, repr(sorted(cursor.fetchall())))
        else:
            cursor.execute("SELECT name, seq FROM sqlite_sequence")
            state["sequences"] = (0, repr(sorted(cursor.fetchall())))
            cursor.execute("SELECT type, name, sql FROM sqlite_master WHERE type IN ('trigger', 'index')")
            state["triggers"] = (0, repr(sorted(cursor.fetchall(), key=repr)))
    return state


def seed() -> None:
    """A small but real district: published hours, residents with petitions, a booking, staff, tokens, groups."""
    district, street, community, _other = f.district()
    department = f.department()
    f.weekday_rules(department)
    f.publish_next_weeks(department)
    kiosk, _key = f.kiosk_actor(community)
    petitions = [f.petition(kiosk, department) for _ in range(3)]
    slot = next(s for s in slot_list_open(department=department) if s.remaining)
    appointment_book(actor=kiosk, petition_reference=petitions[0].reference, slot_id=slot.pk)
    officer = f.staff("officer", StaffMember.Role.PETITION_OFFICER)
    f.token_for(officer)
    group = Group.objects.create(name="值班")
    group.permissions.set(Permission.objects.all()[:5])
    officer.user.groups.add(group)


@pytest.fixture
def backup_path(tmp_path):
    return tmp_path / "backups" / "nightly.backup"


@pytest.mark.django_db(transaction=True)
def test_a_restore_brings_back_every_table_as_it_was_at_backup_time(backup_path):
    seed()
    at_backup = database_state()
    call_command("backup", str(backup_path), stdout=io.StringIO())

    # A day's work after the backup: rows added, changed and removed.
    f.petition(f.kiosk_actor(f.district()[3])[0], Department.objects.get(code="fangchan"))
    Department.objects.filter(code="fangchan").update(name="区房产局（改）")
    StaffMember.objects.get(user__username="officer").user.groups.clear()
    ApiToken.objects.all().delete()
    assert database_state() != at_backup

    call_command("restore", str(backup_path), "--yes", stdout=io.StringIO())

    restored = database_state()
    assert {t for t in at_backup if restored[t] != at_backup[t]} == set()
    assert restored == at_backup
    assert "appointments_auditevent" in restored["triggers"][1]  # the append-only guard came back too
    # And the restored database takes new work (sequences are where they were).
    f.petition(f.kiosk_actor(f.district()[2])[0], Department.objects.get(code="fangchan"))


@pytest.mark.django_db
def test_a_backup_is_one_file_only_its_owner_can_read_and_the_command_says_where_and_how_big(backup_path):
    out = io.StringIO()
    with translation.override("en"):
        call_command("backup", str(backup_path), stdout=out)

    assert stat.S_IMODE(os.stat(backup_path).st_mode) == 0o600
    assert os.listdir(backup_path.parent) == ["nightly.backup"]  # nothing half-written left beside it
    size = backup_path.stat().st_size
    assert f"{backup_path} (" in out.getvalue()
    assert f"{size} bytes" in out.getvalue()
    assert "personal data" in out.getvalue()


@pytest.mark.django_db
def test_a_backup_never_overwrites_a_file(backup_path):
    backup_path.parent.mkdir()
    backup_path.write_bytes(b"yesterday's backup")

    with pytest.raises(CommandError, match="already exists"), translation.override("en"):
        call_command("backup", str(backup_path), stdout=io.StringIO())

    assert backup_path.read_bytes() == b"yesterday's backup"


@pytest.mark.django_db
def test_without_a_path_the_backup_goes_to_backup_dir_under_a_timestamped_name(tmp_path, settings):
    settings.BACKUP_DIR = tmp_path / "nightly"
    out = io.StringIO()

    call_command("backup", stdout=out)

    [written] = list((tmp_path / "nightly").iterdir())
    suffix = {"sqlite": "sqlite3", "postgresql": "pgdump"}[connection.vendor]
    assert re.fullmatch(rf"scheduler-{timezone.localtime():%Y%m%d}-\d{{6}}\.{suffix}", written.name)
    assert str(written) in out.getvalue()
    assert stat.S_IMODE((tmp_path / "nightly").stat().st_mode) == 0o700


@pytest.mark.django_db
def test_a_restore_is_refused_without_yes_when_nobody_can_be_asked(backup_path, monkeypatch):
    call_command("backup", str(backup_path), stdout=io.StringIO())
    monkeypatch.setattr("sys.stdin", io.StringIO(""))

    with pytest.raises(CommandError, match="--yes"), translation.override("en"):
        call_command("restore", str(backup_path), stdout=io.StringIO())


@pytest.mark.django_db
def test_a_restore_asks_at_a_terminal_and_stops_unless_told_yes(backup_path, monkeypatch):
    call_command("backup", str(backup_path), stdout=io.StringIO())
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt: "no")

    with pytest.raises(CommandError, match="cancelled"), translation.override("en"):
        call_command("restore", str(backup_path), stdout=io.StringIO())


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"name,phone\n", "is not a backup"),
        (b"SQLite format 3\x00" + b"\x00" * 200, "damaged|not a backup|PostgreSQL"),
        (b"PGDMP" + b"\x00" * 200, "damaged|SQLite"),
    ],
    ids=["empty", "csv", "broken-sqlite", "broken-pgdump"],
)
def test_a_file_that_is_not_a_good_backup_is_refused_with_a_plain_message(tmp_path, content, message):
    path = tmp_path / "suspicious.backup"
    path.write_bytes(content)

    with pytest.raises(CommandError, match=message), translation.override("en"):
        call_command("restore", str(path), "--yes", stdout=io.StringIO())


@pytest.mark.django_db
def test_a_missing_file_is_refused_with_a_plain_message(tmp_path):
    with pytest.raises(CommandError, match="no file"), translation.override("en"):
        call_command("restore", str(tmp_path / "nope.backup"), "--yes", stdout=io.StringIO())


@pytest.mark.django_db(transaction=True)
def test_a_backup_cut_short_is_refused_and_the_database_is_left_as_it_was(backup_path):
    seed()
    call_command("backup", str(backup_path), stdout=io.StringIO())
    data = backup_path.read_bytes()
    cut = backup_path.with_name("cut.backup")
    cut.write_bytes(data[: len(data) * 9 // 10])  # the table of contents survives; the data does not
    Department.objects.filter(code="fangchan").update(name="区房产局（今天）")
    before = database_state()

    with pytest.raises(CommandError, match="damaged|failed"), translation.override("en"):
        call_command("restore", str(cut), "--yes", stdout=io.StringIO())

    assert database_state() == before


@on_postgresql
@pytest.mark.django_db
def test_pg_dump_gets_the_password_from_the_environment_never_the_command_line(backup_path, monkeypatch):
    monkeypatch.setitem(connection.settings_dict, "PASSWORD", "s3cret-password")  # trust auth ignores it
    calls = []
    real_run = subprocess.run

    def recording_run(args, **kwargs):
        calls.append((args, kwargs["env"]))
        return real_run(args, **kwargs)

    monkeypatch.setattr("scheduler.backups.subprocess.run", recording_run)

    call_command("backup", str(backup_path), stdout=io.StringIO())

    [(args, env)] = calls
    assert not any("s3cret-password" in arg for arg in args)
    assert env["PGPASSWORD"] == "s3cret-password"
    assert env["PGDATABASE"] == connection.settings_dict["NAME"]
    assert "--format=custom" in args
    assert backup_path.read_bytes().startswith(b"PGDMP")
