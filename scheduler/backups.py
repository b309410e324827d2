"""Back the whole database up to one file and restore it (SQLite online backup API; pg_dump/pg_restore)."""

import os
import shutil
import sqlite3
import subprocess  # noqa: S404 - pg_dump and pg_restore are run with fixed arguments, never through a shell
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connections
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone
from django.utils.translation import gettext as _

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"
SUFFIXES = {"sqlite": "sqlite3", "postgresql": "pgdump"}
# A restore waits this long for other sessions' locks, then gives up instead of hanging behind a running server.
PG_LOCK_TIMEOUT = "30s"


class BackupError(Exception):
    """A backup or restore that cannot go ahead, with a message for the operator."""


@dataclass(frozen=True)
class Backup:
    path: Path
    size: int
    engine: str


@dataclass(frozen=True)
class Restored:
    engine: str
    database: str
    unapplied_migrations: list[str]
    unknown_migrations: list[str]


def backup_engine(using: str = "default") -> str:
    """Return "sqlite" or "postgresql" for the configured database, or raise BackupError."""
    vendor = connections[using].vendor
    if vendor not in SUFFIXES:
        raise BackupError(_("Backups support SQLite and PostgreSQL, not %(vendor)s.") % {"vendor": vendor})
    return vendor


def backup_default_path(*, using: str = "default") -> Path:
    """A timestamped file name in BACKUP_DIR, e.g. backups/scheduler-20261130-020000.pgdump."""
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    return Path(settings.BACKUP_DIR) / f"scheduler-{stamp}.{SUFFIXES[backup_engine(using)]}"


def backup_create(*, path: Path, using: str = "default") -> Backup:
    """Write a consistent copy of the whole database to path (a new file, mode 0600) and return it."""
    engine = backup_engine(using)
    path = Path(path)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Claim the name first, so an existing file is refused before any work and never overwritten.
    _create_private(path)
    partial = path.with_name(path.name + ".partial")
    try:
        _create_private(partial)
        if engine == "sqlite":
            _sqlite_backup(connections[using].settings_dict, partial)
        else:
            _pg_dump(connections[using].settings_dict, partial)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        path.unlink(missing_ok=True)
        raise
    return Backup(path=path, size=path.stat().st_size, engine=engine)


def backup_kind(path: Path) -> str:
    """Return the engine a backup file was made from, or raise BackupError if it is not a backup."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            head = f.read(len(SQLITE_MAGIC))
    except FileNotFoundError:
        raise BackupError(_("There is no file %(path)s.") % {"path": path})
    except OSError as e:
        raise BackupError(_("Cannot read %(path)s: %(error)s") % {"path": path, "error": e.strerror})
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PGDUMP_MAGIC):
        return "postgresql"
    if not head:
        raise BackupError(_("%(path)s is empty: the backup that made it did not finish.") % {"path": path})
    raise BackupError(_("%(path)s is not a backup made by manage.py backup.") % {"path": path})


def backup_restore(*, path: Path, using: str = "default") -> Restored:
    """Replace the whole configured database with the backup at path, after checking the file."""
    engine = backup_engine(using)
    path = Path(path)
    kind = backup_kind(path)
    if kind != engine:
        raise BackupError(
            _("%(path)s is a %(kind)s backup, but this database is %(engine)s.")
            % {"path": path, "kind": _engine_label(kind), "engine": _engine_label(engine)}
        )
    connection = connections[using]
    settings_dict = connection.settings_dict
    # Our own connection must not hold locks (or a stale view of the file) while the database is replaced.
    connection.close()
    if engine == "sqlite":
        _sqlite_check(path)
        _sqlite_restore(path, settings_dict)
    else:
        _pg_check(path, settings_dict)
        _pg_restore(path, settings_dict)
    connection.close()
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    applied = set(loader.applied_migrations)
    on_disk = set(loader.disk_migrations)
    return Restored(
        engine=engine,
        database=str(settings_dict["NAME"]),
        unapplied_migrations=sorted(f"{app}.{name}" for app, name in on_disk - applied),
        unknown_migrations=sorted(f"{app}.{name}" for app, name in applied - on_disk),
    )


def _engine_label(engine: str) -> str:
    return {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[engine]


def _create_private(path: Path) -> None:
    """Create an empty file only its owner can read; refuse if anything is already there."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise BackupError(_("%(path)s already exists; a backup never overwrites a file.") % {"path": path})
    except OSError as e:
        raise BackupError(_("Cannot create %(path)s: %(error)s") % {"path": path, "error": e.strerror})
    os.fchmod(fd, 0o600)  # whatever the umask
    os.close(fd)


# SQLite -------------------------------------------------------------------------------------------------------------


def _sqlite_file(settings_dict) -> Path:
    name = str(settings_dict["NAME"])
    if name == ":memory:" or name.startswith("file:"):
        raise BackupError(_("Only an SQLite database in a file can be backed up or restored."))
    return Path(name)


def _sqlite_backup(settings_dict, target: Path) -> None:
    source_path = _sqlite_file(settings_dict)
    if not source_path.exists():
        raise BackupError(_("The database file %(path)s does not exist.") % {"path": source_path})
    # mode=rw: never create an empty database where the real one was expected.
    source = sqlite3.connect(f"{source_path.resolve().as_uri()}?mode=rw", uri=True, timeout=30)
    destination = sqlite3.connect(target)
    try:
        # The online backup API copies a consistent snapshot while the service keeps running (WAL readers
        # and the writer are not blocked).
        source.backup(destination)
        # One self-contained file: no -wal or -shm beside it when it is opened later.
        destination.execute("PRAGMA journal_mode=DELETE")
    except sqlite3.Error as e:
        raise BackupError(_("The backup failed: %(error)s") % {"error": e})
    finally:
        destination.close()
        source.close()


def _sqlite_check(path: Path) -> None:
    try:
        backup = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            result = backup.execute("PRAGMA quick_check").fetchone()[0]
            has_migrations = backup.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'django_migrations'"
            ).fetchone()
        finally:
            backup.close()
    except sqlite3.DatabaseError as e:
        raise BackupError(_("%(path)s is damaged: %(error)s") % {"path": path, "error": e})
    if result != "ok":
        raise BackupError(_("%(path)s is damaged: %(error)s") % {"path": path, "error": result})
    if not has_migrations:
        raise BackupError(_("%(path)s is an SQLite file, but not a backup of this service.") % {"path": path})


def _sqlite_restore(path: Path, settings_dict) -> None:
    target_path = _sqlite_file(settings_dict)
    backup = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    target = sqlite3.connect(target_path, timeout=30)
    try:
        # Written page by page inside one transaction on the target: a failure leaves the database as it was.
        backup.backup(target)
    except sqlite3.Error as e:
        raise BackupError(_("The restore failed and the database was left as it was: %(error)s") % {"error": e})
    finally:
        target.close()
        backup.close()


# PostgreSQL ---------------------------------------------------------------------------------------------------------


def pg_environment(settings_dict) -> dict[str, str]:
    """The environment for pg_dump/pg_restore: connection settings as PG* variables, so no password is in argv."""
    if not settings_dict.get("NAME"):
        raise BackupError(_("DATABASES has no database NAME to back up or restore."))
    options = settings_dict.get("OPTIONS") or {}
    values = {
        "PGHOST": settings_dict.get("HOST"),
        "PGPORT": settings_dict.get("PORT"),
        "PGUSER": settings_dict.get("USER"),
        "PGPASSWORD": settings_dict.get("PASSWORD"),
        "PGDATABASE": settings_dict.get("NAME"),
        "PGSERVICE": options.get("service"),
        "PGPASSFILE": options.get("passfile"),
        "PGSSLMODE": options.get("sslmode"),
        "PGSSLROOTCERT": options.get("sslrootcert"),
        "PGSSLCERT": options.get("sslcert"),
        "PGSSLKEY": options.get("sslkey"),
    }
    env = dict(os.environ)
    env.update({key: str(value) for key, value in values.items() if value})
    return env


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            _("%(tool)s was not found: install the PostgreSQL client of the server's major version.") % {"tool": name}
        )
    return found


def _run(args: list[str], settings_dict, *, stdout, extra_env: dict[str, str] | None = None):
    env = {**pg_environment(settings_dict), **(extra_env or {})}
    return subprocess.run(  # noqa: S603 - fixed arguments; the password travels in the environment
        args, env=env, stdout=stdout, stderr=subprocess.PIPE, check=False
    )


def _stderr(result) -> str:
    return result.stderr.decode("utf-8", "replace").strip()


def _pg_dump(settings_dict, target: Path) -> None:
    with target.open("wb") as out:
        result = _run([_pg_tool("pg_dump"), "--format=custom", "--no-password"], settings_dict, stdout=out)
    if result.returncode != 0:
        raise BackupError(_("pg_dump failed: %(error)s") % {"error": _stderr(result)})


def _pg_check(path: Path, settings_dict) -> None:
    result = _run([_pg_tool("pg_restore"), "--list", str(path)], settings_dict, stdout=subprocess.PIPE)
    if result.returncode != 0:
        raise BackupError(_("%(path)s is damaged: %(error)s") % {"path": path, "error": _stderr(result)})
    if b" TABLE DATA public django_migrations " not in result.stdout:
        raise BackupError(_("%(path)s is a PostgreSQL dump, but not a backup of this service.") % {"path": path})


def _pg_restore(path: Path, settings_dict) -> None:
    args = [
        _pg_tool("pg_restore"),
        "--clean",
        "--if-exists",
        "--no-owner",
        "--single-transaction",
        "--exit-on-error",
        "--no-password",
        f"--dbname={settings_dict['NAME']}",
        str(path),
    ]
    pg_options = " ".join(filter(None, [os.environ.get("PGOPTIONS"), f"-c lock_timeout={PG_LOCK_TIMEOUT}"]))
    result = _run(args, settings_dict, stdout=subprocess.PIPE, extra_env={"PGOPTIONS": pg_options})
    if result.returncode != 0:
        raise BackupError(
            _("pg_restore failed and the database was left as it was: %(error)s") % {"error": _stderr(result)}
        )
