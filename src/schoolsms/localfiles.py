"""The files a laptop install keeps under SCHOOLSMS_VAR_DIR, and the check that they are there.

Settings only read: the folder and the secret key file are created by the commands that set an
install up (`migrate`, `serve`, `demo`), so a command started in another folder reports the
database it looked for instead of silently starting a new, empty one.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from django.conf import settings

# Commands that may start on a missing database: they create it (or only print help).
CREATES_DATABASE = frozenset({"migrate", "serve", "demo"})
NEEDS_NOTHING = frozenset({"help", "version", "--help", "-h", "--version"})


def sqlite_path() -> Path | None:
    """The SQLite database file in use, or None for another database."""
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.sqlite3" or str(db["NAME"]) in ("", ":memory:"):
        return None
    return Path(db["NAME"])


def database_missing() -> Path | None:
    """The path of the SQLite file that should be there and is not, else None."""
    path = sqlite_path()
    return path if path is not None and not path.exists() else None


def missing_database_message(path: Path) -> str:
    var_dir = os.environ.get("SCHOOLSMS_VAR_DIR")
    where = (
        f"SCHOOLSMS_VAR_DIR={var_dir}"
        if var_dir
        else f"SCHOOLSMS_VAR_DIR is not set, so ./var in {Path.cwd()} is used"
    )
    return (
        f"no database at {path} ({where}). Run the command from the folder of your install, "
        "set SCHOOLSMS_VAR_DIR (or DATABASE_URL) to where it lives, "
        "or create a new one with `schoolsms migrate`."
    )


def local_files_create() -> None:
    """Create SCHOOLSMS_VAR_DIR and, unless SECRET_KEY is set, the secret key file in it."""
    var_dir = Path(settings.VAR_DIR)
    var_dir.mkdir(parents=True, exist_ok=True)
    key_file = Path(settings.SECRET_KEY_FILE)
    if not os.environ.get("SECRET_KEY") and not key_file.exists():
        key_file.touch(mode=0o600)
        key_file.write_text(secrets.token_urlsafe(50))
        settings.SECRET_KEY = key_file.read_text().strip()
    path = sqlite_path()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)


def command_name(argv: list[str]) -> str:
    """The subcommand in `schoolsms ARGS` (the first word that is not an option)."""
    return next((a for a in argv if not a.startswith("-")), "help" if not argv else argv[0])
