"""`schoolsms check --deploy` passes with the production environment the README documents."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

DEPLOY = Path(__file__).resolve().parents[4] / "deploy"


def _environment_file() -> dict[str, str]:
    values = {}
    for line in (DEPLOY / "schoolsms.env").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


@pytest.mark.slow
def test_check_deploy_passes_with_the_documented_environment(tmp_path: Any) -> None:
    from cryptography.fernet import Fernet

    documented = _environment_file()
    assert {"DATABASE_URL", "SECRET_KEY", "ALLOWED_HOSTS", "SCHOOLSMS_PUBLIC_URL"} <= set(
        documented
    )
    skip = ("SCHOOLSMS_", "DATABASE_", "DJANGO_ALLOW_ASYNC_UNSAFE")
    env = {k: v for k, v in os.environ.items() if not k.startswith(skip)}
    env.update(documented)
    # The sample's placeholders, filled in as an operator would.
    env["SECRET_KEY"] = "k" + os.urandom(40).hex()
    env["SCHOOLSMS_SECRETS_KEY"] = Fernet.generate_key().decode()
    env["SCHOOLSMS_VAR_DIR"] = str(tmp_path)
    env["SCHOOLSMS_ARCHIVE_DIR"] = str(tmp_path / "archive")
    result = subprocess.run(
        [sys.executable, "-m", "schoolsms", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_units_run_the_documented_commands() -> None:
    web = (DEPLOY / "schoolsms-web.service").read_text()
    worker = (DEPLOY / "schoolsms-worker@.service").read_text()
    assert re.search(r"ExecStart=\S+/schoolsms serve .*--no-worker", web)
    assert re.search(r"ExecStart=\S+/schoolsms worker$", worker, re.M)
    for unit in (web, worker):
        assert "EnvironmentFile=/etc/schoolsms/schoolsms.env" in unit
    nginx = (DEPLOY / "nginx-schoolsms.conf").read_text()
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in nginx
