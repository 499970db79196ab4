"""The `schoolsms` console script: Django's management commands under the project's name."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "schoolsms.settings")
    from django.core.management import execute_from_command_line

    from schoolsms import localfiles

    command = localfiles.command_name(args)
    if command in localfiles.CREATES_DATABASE:
        localfiles.local_files_create()
    elif command not in localfiles.NEEDS_NOTHING:
        missing = localfiles.database_missing()
        if missing is not None:
            sys.stderr.write(
                f"schoolsms {command}: {localfiles.missing_database_message(missing)}\n"
            )
            sys.exit(2)
    execute_from_command_line(["schoolsms", *args])


if __name__ == "__main__":
    main()
