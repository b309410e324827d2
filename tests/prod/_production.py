"""Environments and processes for running the app as production runs it: DEBUG=0, real keys, Redis, gunicorn."""

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
GUNICORN = str(Path(PYTHON).with_name("gunicorn"))
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
# Variables of the test run that must not leak into a "production" process.
_TEST_ONLY = ("DJANGO_ALLOW_DEV_SECRET", "DJANGO_ALLOW_ASYNC_UNSAFE", "DJANGO_SETTINGS_MODULE", "DEBUG")


def production_env(**overrides: str) -> dict[str, str]:
    """Return an environment with what a real deployment sets, plus `overrides` (an empty value unsets)."""
    env = {key: value for key, value in os.environ.items() if key not in _TEST_ONLY}
    env.update(
        DJANGO_SETTINGS_MODULE="scheduler.settings",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        FIELD_ENCRYPTION_KEY=secrets.token_urlsafe(48),
        REDIS_URL=REDIS_URL,
        ALLOWED_HOSTS="petition.example.gov.cn,127.0.0.1,localhost",
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.update(overrides)
    return {key: value for key, value in env.items() if value != ""}


def manage(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own manage.py
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_answering(url: str, *, process: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode}")
        try:
            httpx.get(url, timeout=30)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {seconds} s")


@contextmanager
def running(*commands: list[str], env: dict[str, str], log_dir: Path) -> Iterator[list[subprocess.Popen]]:
    """Start each command in the repository with `env`; stop them all (TERM, then KILL) on the way out."""
    processes = []
    try:
        for number, command in enumerate(commands):
            log = open(log_dir / f"process-{number}.log", "wb")  # noqa: SIM115 - closed with the process
            process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
            processes.append(process)
        yield processes
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stdout:
                process.stdout.close()


def logs(log_dir: Path) -> str:
    return "\n".join(path.read_text(errors="replace")[-4000:] for path in sorted(log_dir.glob("process-*.log")))
