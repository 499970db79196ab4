"""A command started in the wrong folder reports the database it looked for and creates nothing."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

SCHOOLSMS = str(Path(sys.executable).with_name("schoolsms"))


def _env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "SCHOOLSMS_VAR_DIR", "SECRET_KEY", "DJANGO_SETTINGS_MODULE")
    }
    return {**env, **extra}


def _run(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SCHOOLSMS, *args],
        cwd=cwd,
        env=_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("command", [["org", "list"], ["worker", "--until-idle"]])
def test_a_command_in_another_folder_refuses_and_creates_nothing(
    tmp_path: Path, command: list[str]
) -> None:
    done = _run(tmp_path, *command)
    assert done.returncode == 2, done.stderr
    assert str(tmp_path / "var" / "schoolsms.sqlite3") in done.stderr
    assert "SCHOOLSMS_VAR_DIR" in done.stderr
    assert list(tmp_path.iterdir()) == []  # no var/, no database, no secret key


def test_the_message_names_the_var_dir_that_was_set(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    done = _run(tmp_path, "org", "list", SCHOOLSMS_VAR_DIR=str(elsewhere))
    assert done.returncode == 2
    assert f"no database at {elsewhere / 'schoolsms.sqlite3'}" in done.stderr
    assert f"SCHOOLSMS_VAR_DIR={elsewhere}" in done.stderr
    assert not elsewhere.exists()


def test_help_needs_no_database(tmp_path: Path) -> None:
    done = _run(tmp_path, "help")
    assert done.returncode == 0 and "migrate" in done.stdout
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_migrate_sets_an_install_up_and_then_commands_run(tmp_path: Path) -> None:
    done = _run(tmp_path, "migrate", "--no-input", "-v", "0")
    assert done.returncode == 0, done.stderr
    var = tmp_path / "var"
    assert (var / "schoolsms.sqlite3").exists()
    key = var / "secret_key"
    assert len(key.read_text().strip()) >= 50
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    first_key = key.read_text()

    listed = _run(tmp_path, "org", "list")
    assert listed.returncode == 0, listed.stderr
    again = _run(tmp_path, "migrate", "--no-input", "-v", "0")
    assert again.returncode == 0 and key.read_text() == first_key  # made once, kept
