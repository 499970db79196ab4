"""`schoolsms serve` as a real process on 127.0.0.1 and a free port, for tests that need the
production web server (gunicorn) rather than Django's test client."""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from schoolsms.testing import subprocess_env

SCHOOLSMS = str(Path(sys.executable).with_name("schoolsms"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(*, worker: bool = False, **env: str) -> Iterator[str]:
    """The app served by gunicorn on the test database; yields its base URL."""
    port = free_port()
    command = [SCHOOLSMS, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"]
    if not worker:
        command.append("--no-worker")
    # A file, not a pipe: a full pipe would stall the server.
    log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in the finally below)
    process = subprocess.Popen(
        command,
        env={**subprocess_env(), "LOG_LEVEL": "WARNING", **env},
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90  # collectstatic and gunicorn on a busy machine
        while True:
            try:
                probe = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                probe.request("GET", "/login/")
                probe.getresponse()  # any answer (a redirect to https, say): it is up
                probe.close()
                break
            except (OSError, http.client.HTTPException):
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    err = log.read().decode(errors="replace")
                    raise RuntimeError(f"schoolsms serve did not start: {err[-2000:]}") from None
                time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
