"""Anonymise residents past the retention period and clear old sessions and idempotency records."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from appointments.retention import retention_run


class Command(BaseCommand):
    help = (
        "Anonymise residents whose petitions all ended more than RETENTION_YEARS ago (their petitions and the "
        "statistics stay), clear expired sessions and old idempotency records, and record one audit event."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Print what would be done; change nothing.")
        parser.add_argument("--years", type=int, help="Override RETENTION_YEARS for this run.")

    def handle(self, *args: Any, **options: Any) -> None:
        years = options["years"]
        if years is not None and years < 1:
            raise CommandError("--years must be at least 1.")
        report = retention_run(years=years, dry_run=options["dry_run"])
        prefix = "Would anonymise" if options["dry_run"] else "Anonymised"
        self.stdout.write(
            f"{prefix} {report.residents} residents ({report.petitions} petitions) whose petitions ended before "
            f"{report.cutoff}."
        )
        clear = "Would clear" if options["dry_run"] else "Cleared"
        self.stdout.write(
            f"{clear} {report.sessions} expired sessions, {report.idempotency_records} idempotency records, "
            f"{report.outbox_messages} local SMS outbox messages."
        )
