"""The audit trail becomes tamper-evident: a hash chain written once per event, and the database refuses any other
change — UPDATE, DELETE and TRUNCATE — on both PostgreSQL and SQLite (see docs/audit.md).

The triggers come last: on SQLite the constraint and index operations before them rebuild the table, which would
drop any trigger already on it. A later migration that rebuilds this table on SQLite must create them again.
"""

from django.conf import settings
from django.db import migrations, models

TABLE = "appointments_auditevent"

POSTGRESQL = [
    f"""
    CREATE FUNCTION audit_event_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        -- The one change allowed: sealing an unsealed event, every other column as it was.
        IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND OLD.hash IS NULL
           AND NEW.seq IS NOT NULL AND NEW.hash IS NOT NULL
           AND to_jsonb(NEW) - ARRAY['seq', 'hash'] = to_jsonb(OLD) - ARRAY['seq', 'hash'] THEN
            RETURN NEW;
        END IF;
        -- Only a session that says so may wipe the whole trail: the test suite, between tests.
        IF TG_OP = 'TRUNCATE' AND current_setting('departments.audit_wipe', true) = 'allow' THEN
            RETURN NULL;
        END IF;
        RAISE EXCEPTION 'audit events are append-only: % on {TABLE} is refused', TG_OP
            USING ERRCODE = 'restrict_violation', HINT = 'Events are only ever added: see docs/audit.md.';
    END
    $$
    """,
    f"""
    CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON {TABLE}
        FOR EACH ROW EXECUTE FUNCTION audit_event_guard()
    """,
    f"""
    CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON {TABLE}
        FOR EACH STATEMENT EXECUTE FUNCTION audit_event_guard()
    """,
]
POSTGRESQL_REVERSE = [
    f"DROP TRIGGER audit_event_no_truncate ON {TABLE}",
    f"DROP TRIGGER audit_event_append_only ON {TABLE}",
    "DROP FUNCTION audit_event_guard()",
]

# SQLite has no TRUNCATE (Django's flush deletes every row) and no session settings: the delete trigger asks
# audit_wipe_allowed(), which departments.audit registers on each connection (elsewhere it is unknown: refused).
SQLITE = [
    f"""
    CREATE TRIGGER audit_event_append_only BEFORE UPDATE ON {TABLE}
    WHEN NOT (OLD.seq IS NULL AND OLD.hash IS NULL AND NEW.seq IS NOT NULL AND NEW.hash IS NOT NULL
              AND NEW.id IS OLD.id AND NEW.at IS OLD.at AND NEW.actor IS OLD.actor AND NEW.user_id IS OLD.user_id
              AND NEW.action IS OLD.action AND NEW.target_type IS OLD.target_type
              AND NEW.target_id IS OLD.target_id AND NEW.detail IS OLD.detail)
    BEGIN SELECT RAISE(ABORT, 'audit events are append-only: UPDATE on {TABLE} is refused'); END
    """,
    f"""
    CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON {TABLE}
    WHEN NOT audit_wipe_allowed()
    BEGIN SELECT RAISE(ABORT, 'audit events are append-only: DELETE on {TABLE} is refused'); END
    """,
]
SQLITE_REVERSE = ["DROP TRIGGER audit_event_no_delete", "DROP TRIGGER audit_event_append_only"]


def _run(statements):
    def run(apps, schema_editor):
        for sql in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("departments", "0003_audit_by_target"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditevent",
            name="user",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="seq",
            field=models.PositiveBigIntegerField(blank=True, editable=False, null=True, unique=True),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="hash",
            field=models.CharField(blank=True, editable=False, max_length=64, null=True),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(condition=models.Q(seq__isnull=True), fields=["id"], name="audit_unsealed"),
        ),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.CheckConstraint(
                condition=models.Q(seq__isnull=True, hash__isnull=True)
                | models.Q(seq__isnull=False, hash__isnull=False),
                name="audit_sealed_whole",
            ),
        ),
        migrations.RunPython(
            _run({"postgresql": POSTGRESQL, "sqlite": SQLITE}),
            _run({"postgresql": POSTGRESQL_REVERSE, "sqlite": SQLITE_REVERSE}),
            elidable=False,
        ),
    ]
