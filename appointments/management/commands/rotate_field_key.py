"""Re-encrypt residents' personal data under the current FIELD_ENCRYPTION_KEY and recompute its keyed hashes."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from appointments import identity
from appointments.key_rotation import field_key_rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted field written under an older key (FIELD_ENCRYPTION_OLD_KEYS) with "
        "FIELD_ENCRYPTION_KEY, and recompute the keyed hashes used to find residents. Runs in batches that each "
        "commit; run it again to resume after an interruption. A second run changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500, help="Rows per transaction (default 500).")
        parser.add_argument("--dry-run", action="store_true", help="Count the rows to re-encrypt; change nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        verbose = options["verbosity"] >= 2

        def progress(label: str, checked: int, rotated: int) -> None:
            if verbose:
                self.stdout.write(f"  {label}: {checked} checked, {rotated} re-encrypted")

        try:
            report = field_key_rotate(batch_size=options["batch_size"], dry_run=options["dry_run"], progress=progress)
        except identity.UndecryptableValue as error:
            raise CommandError(str(error)) from None
        verb = "to re-encrypt" if options["dry_run"] else "re-encrypted"
        for label, checked in report.checked.items():
            self.stdout.write(f"{label}: {checked} rows checked, {report.rotated[label]} {verb}")
        if not options["dry_run"] and identity.field_keys()[1:]:
            self.stdout.write(
                "Every row is now under FIELD_ENCRYPTION_KEY. Remove FIELD_ENCRYPTION_OLD_KEYS once kiosk sessions "
                "started before the change have expired (docs/personal-data.md)."
            )
