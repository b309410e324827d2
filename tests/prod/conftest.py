"""A production stack for tests/prod: a fresh PostgreSQL database, gunicorn processes and task workers."""

import hashlib
import json
import os
import secrets
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import django
import psycopg
import pytest
from django.conf import settings
from django.db import connection, connections

from ._production import GUNICORN, PYTHON, ROOT, free_port, logs, manage, production_env, running, wait_until_answering

ON_POSTGRES = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
needs_postgres = pytest.mark.skipif(not ON_POSTGRES, reason="runs gunicorn against PostgreSQL (set DATABASE_URL)")
# The Redis database the stacks use, apart from the default one that a developer's `make run` may be using.
STACK_REDIS_URL = "redis://127.0.0.1:6379/13"


def admin_dsn(dbname: str = "postgres") -> str:
    db = settings.DATABASES["default"]
    user, host, port = db.get("USER") or "postgres", db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
    password = f" password={db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"host={host} port={port} user={user} dbname={dbname}{password}"


def terminate_backends(dbname: str) -> int:
    """Kill every session on `dbname` as a failover would; return how many there were."""
    with psycopg.connect(admin_dsn(), autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [dbname],
        ).fetchall()
    return len(rows)


def collected_static_dir() -> Path:
    """Where collectstatic's output for the current static files is kept between runs (compressing takes minutes)."""
    sources = sorted((ROOT / "static").rglob("*"))
    fingerprint = hashlib.sha256(django.get_version().encode())
    for source in sources:
        if source.is_file():
            stat = source.stat()
            fingerprint.update(f"{source.relative_to(ROOT)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return Path(tempfile.gettempdir()) / f"petition-static-{fingerprint.hexdigest()[:16]}"


@dataclass
class Stack:
    dbname: str
    urls: list[str]
    env: dict[str, str]
    seed: dict
    log_dir: Path
    processes: list = field(default_factory=list)

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        with psycopg.connect(admin_dsn(self.dbname), autocommit=True) as db:
            return db.execute(sql, params or []).fetchall()

    def logs(self) -> str:
        return logs(self.log_dir)


@pytest.fixture(scope="session")
def production_stack(tmp_path_factory, django_db_setup, django_db_blocker) -> Iterator[Stack]:
    """2 gunicorn processes (one worker each) and 2 `manage.py worker` processes on a fresh database, DEBUG=0."""
    if not ON_POSTGRES:
        pytest.skip("runs gunicorn against PostgreSQL (set DATABASE_URL)")
    dbname = f"prod_stack_{os.getpid()}_{secrets.token_hex(3)}"
    # A copy of the suite's migrated test database: migrating afresh costs minutes on a busy machine.
    template = connection.settings_dict["NAME"]
    with django_db_blocker.unblock():
        connections.close_all()
    # Sessions still open on the test database are this run's own (a finished live server's thread, say): the
    # database's name is this run's. They are ended, as a copy needs the template to itself.
    terminate_backends(template)
    with psycopg.connect(admin_dsn(), autocommit=True) as admin:
        try:
            admin.execute(f'CREATE DATABASE "{dbname}" TEMPLATE "{template}"')
        except psycopg.errors.ObjectInUse:  # still in use: migrate a new database instead (slower)
            admin.execute(f'CREATE DATABASE "{dbname}"')
    log_dir = tmp_path_factory.mktemp("stack")
    static_root = collected_static_dir()
    db = settings.DATABASES["default"]
    env = production_env(
        DATABASE_URL=f"postgres://{db.get('USER') or 'postgres'}@{db.get('HOST') or '127.0.0.1'}:"
        f"{db.get('PORT') or 5432}/{dbname}",
        REDIS_URL=STACK_REDIS_URL,
        # Plain HTTP on loopback: no TLS here to redirect to or to carry Secure cookies.
        SECURE_SSL_REDIRECT="0",
        SECURE_COOKIES="0",
        STATIC_ROOT=str(static_root),
        SMS_SWEEP_SECONDS="1",
        VIDEO_JOIN_OPENS_BEFORE_MINUTES="120",
        WEB_CONCURRENCY="1",
        HEALTH_WORKER_MAX_AGE_SECONDS="20",
        GUNICORN_GRACEFUL_TIMEOUT="5",  # stopping the stack need not wait for idle keep-alive connections
    )
    try:
        done = manage("migrate", "--noinput", "-v0", env=env, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        if not (static_root / "staticfiles.json").exists():
            done = manage("collectstatic", "--noinput", "-v0", env=env, timeout=600)
            assert done.returncode == 0, done.stdout + done.stderr
        seeded = manage("shell", "-c", "from tests.prod._stack_seed import main; main()", env=env)
        assert seeded.returncode == 0, seeded.stderr
        seed = json.loads(seeded.stdout.strip().splitlines()[-1])
        ports = [free_port(), free_port()]
        gunicorns = [
            [GUNICORN, "-c", "deploy/gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", "scheduler.wsgi"]
            for port in ports
        ]
        workers = [[PYTHON, "manage.py", "worker", "--interval", "0.5"] for _ in range(2)]
        with running(*gunicorns, *workers, env=env, log_dir=log_dir) as processes:
            urls = [f"http://127.0.0.1:{port}" for port in ports]
            try:
                for url, process in zip(urls, processes, strict=False):
                    wait_until_answering(url + "/health/", process=process)
            except (RuntimeError, TimeoutError) as failure:
                raise AssertionError(f"{failure}\n{logs(log_dir)}") from None
            yield Stack(dbname=dbname, urls=urls, env=env, seed=seed, log_dir=log_dir, processes=processes)
    finally:
        with psycopg.connect(admin_dsn(), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
