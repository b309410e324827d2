"""Replace the whole database with a backup: `manage.py restore FILE --yes`."""

import sys

from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from scheduler.backups import BackupError, backup_kind, backup_restore


class Command(BaseCommand):
    help = (
        "Restore the whole database from a file made by `manage.py backup` (SQLite: online backup API; "
        "PostgreSQL: pg_restore --clean --if-exists --no-owner in one transaction). Everything written since the "
        "backup is lost. Stop the web server and the task worker first."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="Backup file made by manage.py backup.")
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")
        parser.add_argument("--database", default="default", help="Database alias (default: default).")

    def handle(self, *args, path, yes, database, **options):
        name = connections[database].settings_dict["NAME"]
        try:
            backup_kind(path)  # a wrong or empty file is refused before anyone is asked anything
        except BackupError as e:
            raise CommandError(str(e))
        if not yes:
            self._confirm(path, name)
        try:
            restored = backup_restore(path=path, using=database)
        except BackupError as e:
            raise CommandError(str(e))
        self.stdout.write(_("Restored %(database)s from %(path)s.") % {"database": restored.database, "path": path})
        if restored.unapplied_migrations:
            count = len(restored.unapplied_migrations)
            self.stdout.write(
                ngettext(
                    "The backup is older than this code: run `manage.py migrate` (%(count)d migration to apply).",
                    "The backup is older than this code: run `manage.py migrate` (%(count)d migrations to apply).",
                    count,
                )
                % {"count": count}
            )
        if restored.unknown_migrations:
            self.stderr.write(
                _("The backup was made by newer code (migrations unknown here: %(names)s); deploy that version.")
                % {"names": ", ".join(restored.unknown_migrations)}
            )

    def _confirm(self, path, name):
        if not sys.stdin.isatty():
            raise CommandError(_("Refusing to restore without --yes: it replaces the whole database."))
        answer = input(
            _("This replaces everything in database %(database)s with %(path)s. Type 'yes' to continue: ")
            % {"database": name, "path": path}
        )
        if answer.strip().lower() != "yes":
            raise CommandError(_("Restore cancelled."))
