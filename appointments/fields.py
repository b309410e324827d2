"""A model field that keeps personal text encrypted in the database and plain in Python."""

from typing import Any

from django.db import models

from . import identity


class EncryptedTextField(models.TextField):
    """Text encrypted at rest under the field key; read back as plain text. Only `isnull` may be filtered on:
    a value is found through its keyed hash, kept in a column beside it (see docs/personal-data.md)."""

    description = "Text encrypted at rest"

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if not value:
            return value
        return identity.decrypt_strict(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if not value:
            # An empty value stays empty: a blanked (anonymised) field holds nothing to protect.
            return value
        return identity.encrypt(value)

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        # Encrypted text cannot be compared in SQL: refuse plainly instead of matching nothing.
        return None

    def get_transform(self, lookup_name: str) -> Any:
        return None
