"""Prism serving Twilio's own REST API (twilio_api_v2010.yaml, where Messages live), and what it says it received.

The video tests' Prism serves the Video API only; this one serves the Messaging API on its own port. Prism runs with
debug logging, so each request's headers and form body are in its log: tests read from there what Twilio would have
received, not what the client believed it sent.
"""

import base64
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from tests.video.support import PRISM, REPO, TWILIO_API_SPEC

LOG_PREFIX = "[NEGOTIATOR]"


@dataclass
class Received:
    """One request as Prism logged it."""

    method: str
    path: str
    authorization: str = ""
    form: dict[str, str] | None = None
    valid: bool | None = None

    @property
    def basic_user(self) -> str:
        """The user name of the request's HTTP Basic credentials (an account sid or an API key sid)."""
        if not self.authorization.lower().startswith("basic "):
            return ""
        return base64.b64decode(self.authorization[6:]).decode().split(":", 1)[0]


class PrismServer:
    """One Prism process mocking one of Twilio's OpenAPI files on a free loopback port."""

    def __init__(self, spec: Path):
        self.spec = spec
        self.url = ""
        self.process: subprocess.Popen | None = None
        self.log_path: Path | None = None

    def start(self) -> "PrismServer":
        if not self.spec.is_file():
            pytest.fail(f"Twilio's OpenAPI file is missing: expected {self.spec} (see tests/twilio-oai/README.md).")
        if not PRISM.exists():
            pytest.fail(f"Prism is not installed at {PRISM}: run `make install-test` (npm ci installs prism-cli).")
        if shutil.which("node") is None:
            pytest.fail("Prism needs Node.js, and `node` is not on PATH.")
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        fd, name = tempfile.mkstemp(prefix="prism-api-", suffix=".log")
        self.log_path = Path(name)
        with os.fdopen(fd, "w") as log:
            self.process = subprocess.Popen(  # noqa: S603 - fixed arguments, our own node_modules
                [str(PRISM), "mock", "-v", "debug", "-h", "127.0.0.1", "-p", str(port), str(self.spec)],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=REPO,
                env={**os.environ, "NO_COLOR": "1"},
            )
        deadline = time.monotonic() + 90
        while "Prism is listening" not in self.log():
            exit_code = self.process.poll()
            if exit_code is not None or time.monotonic() > deadline:
                output = self.log()[-3000:]
                self.stop()
                pytest.fail(f"Prism did not start (exit {exit_code}):\n{output}")
            time.sleep(0.2)
        self.url = f"http://127.0.0.1:{port}"
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None
        if self.log_path is not None:
            self.log_path.unlink(missing_ok=True)
            self.log_path = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def received(self) -> list[Received]:
        """Every request Prism logged, in order, with its credentials, form body and whether it passed validation."""
        requests: list[Received] = []
        for line in self.log().splitlines():
            if "[HTTP SERVER]" in line and "Request received" in line:
                method, path = line.split("[HTTP SERVER]", 1)[1].split()[:2]
                requests.append(Received(method=method.upper(), path=path))
            elif not requests:
                continue
            elif LOG_PREFIX in line and "< \tauthorization:" in line:
                requests[-1].authorization = line.split("authorization:", 1)[1].strip()
            elif LOG_PREFIX in line and "< Body:" in line:
                requests[-1].form = dict(parse_qsl(line.split("< Body:", 1)[1].strip(), keep_blank_values=True))
            elif "passed the validation rules" in line and "did not" not in line:
                requests[-1].valid = True
            elif "did not pass the validation rules" in line:
                requests[-1].valid = False
        return requests

    def received_after(self, count: int, *, expect: int = 1, timeout: float = 5) -> list[Received]:
        """The requests logged after the first `count`, once `expect` of them are fully written to the log."""
        deadline = time.monotonic() + timeout
        while True:
            new = self.received()[count:]
            done = [r for r in new if r.valid is not None]
            if len(done) >= expect or time.monotonic() > deadline:
                return new
            time.sleep(0.05)


_api = PrismServer(TWILIO_API_SPEC)


@pytest.fixture(scope="session")
def prism_api():
    """Prism serving Twilio's REST API (Messages) for the whole run; its `url` is what TWILIO_API_BASE_URL takes."""
    yield _api.start()
    _api.stop()
