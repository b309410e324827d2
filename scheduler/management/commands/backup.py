"""Write the whole database to one new file: `manage.py backup [PATH]` (default: BACKUP_DIR, timestamped)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from scheduler.backups import BackupError, backup_create, backup_default_path


class Command(BaseCommand):
    help = (
        "Back up the whole database to one file (SQLite: online backup API; PostgreSQL: pg_dump --format=custom). "
        "The file holds residents' personal data unencrypted and is created readable by its owner only (0600)."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", help="File to write (must not exist). Default: BACKUP_DIR/<timestamp>.")
        parser.add_argument("--database", default="default", help="Database alias (default: default).")

    def handle(self, *args, path, database, **options):
        try:
            target = Path(path) if path else backup_default_path(using=database)
            backup = backup_create(path=target, using=database)
        except BackupError as e:
            raise CommandError(str(e))
        self.stdout.write(
            _("Backup written: %(path)s (%(size)s, %(bytes)d bytes)")
            % {"path": backup.path, "size": filesizeformat(backup.size), "bytes": backup.size}
        )
        self.stdout.write(
            _("It contains residents' personal data unencrypted; only its owner can read it (mode 0600).")
        )
