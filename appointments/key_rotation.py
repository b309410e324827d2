"""Re-encrypt every personal field under the current field key and recompute its keyed hashes, in batches."""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connection, models, transaction

from . import identity
from .models import OutboxMessage, Petition, Resident


@dataclass(frozen=True)
class EncryptedTable:
    """A model's encrypted columns and how to recompute the lookups kept beside them from the clear values."""

    model: type[models.Model]
    # Columns of EncryptedTextField (the ORM encrypts on write) and columns encrypted by hand (id_number_encrypted).
    fields: tuple[str, ...]
    manual: tuple[str, ...] = ()
    lookups: Callable[[dict[str, str]], dict[str, str]] = lambda clear: {}


def _resident_lookups(clear: dict[str, str]) -> dict[str, str]:
    found = {"name_tags": identity.name_tags(clear["name"]), "phone_hash": identity.phone_hash(clear["phone"])}
    if clear["id_number_encrypted"]:
        found["id_number_hash"] = identity.lookup_hash(clear["id_number_encrypted"])
    return found


def _petition_lookups(clear: dict[str, str]) -> dict[str, str]:
    return {
        "contact_name_tags": identity.name_tags(clear["contact_name"]),
        "contact_phone_hash": identity.phone_hash(clear["contact_phone"]),
    }


ENCRYPTED_TABLES = (
    EncryptedTable(Resident, ("name", "phone"), ("id_number_encrypted",), _resident_lookups),
    EncryptedTable(Petition, ("contact_name", "contact_phone"), (), _petition_lookups),
    EncryptedTable(OutboxMessage, ("to",)),
)


@dataclass
class RotationReport:
    checked: dict[str, int] = field(default_factory=dict)
    rotated: dict[str, int] = field(default_factory=dict)

    @property
    def total_rotated(self) -> int:
        return sum(self.rotated.values())


def _raw_rows(table: EncryptedTable, pks: list[int]) -> list[tuple]:
    """The stored (encrypted) values, read past the field's decryption."""
    meta = table.model._meta
    quote = connection.ops.quote_name
    names = (*table.fields, *table.manual)
    column_of = {field.name: str(field.column) for field in meta.concrete_fields}
    columns = ", ".join(quote(column_of[name]) for name in names)
    key = quote(str(meta.pk.column if meta.pk is not None else "id"))
    placeholders = ", ".join(["%s"] * len(pks))
    sql = f"SELECT {key}, {columns} FROM {quote(meta.db_table)} WHERE {key} IN ({placeholders})"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, pks)
        return cursor.fetchall()


def _rotate_batch(table: EncryptedTable, *, after: int, batch_size: int, dry_run: bool) -> tuple[int, int, int]:
    """Rotate the rows after this primary key; return (rows checked, rows rotated, last primary key)."""
    with transaction.atomic():
        # Locked while they are rewritten, so that a mobile changed meanwhile is not overwritten with the old one.
        pks = list(
            table.model._default_manager.select_for_update()
            .filter(pk__gt=after)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not pks:
            return 0, 0, after
        names = (*table.fields, *table.manual)
        rotated = 0
        for pk, *stored in _raw_rows(table, pks):
            tokens = dict(zip(names, stored, strict=True))
            if all(not token or identity.is_current(token) for token in tokens.values()):
                continue
            try:
                clear = {name: identity.decrypt_strict(token) if token else "" for name, token in tokens.items()}
            except identity.UndecryptableValue:
                raise identity.UndecryptableValue(
                    f"{table.model._meta.label} {pk}: no configured field key decrypts it; "
                    "add the key it was written with to FIELD_ENCRYPTION_OLD_KEYS."
                ) from None
            rotated += 1
            if dry_run:
                continue
            values: dict[str, str] = {name: clear[name] for name in table.fields}  # the field encrypts on write
            values |= {name: identity.encrypt(clear[name]) if clear[name] else "" for name in table.manual}
            values |= table.lookups(clear)
            table.model._default_manager.filter(pk=pk).update(**values)
        return len(pks), rotated, pks[-1]


def field_key_rotate(
    *, batch_size: int = 500, dry_run: bool = False, progress: Callable[[str, int, int], None] | None = None
) -> RotationReport:
    """Re-encrypt under the current key every value written under an older one, and recompute its keyed hashes.

    Each batch commits on its own, and rows already under the current key are left as they are: an interrupted run
    is resumed by running it again, and a finished one changes nothing when repeated.
    """
    report = RotationReport()
    for table in ENCRYPTED_TABLES:
        label = table.model._meta.label
        after, checked, rotated = 0, 0, 0
        while True:
            seen, changed, after = _rotate_batch(table, after=after, batch_size=batch_size, dry_run=dry_run)
            if not seen:
                break
            checked, rotated = checked + seen, rotated + changed
            if progress is not None:
                progress(label, checked, rotated)
        report.checked[label], report.rotated[label] = checked, rotated
    return report
