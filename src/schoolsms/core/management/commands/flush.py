"""`schoolsms flush`: Django's flush, which also empties tables whose triggers refuse DELETE.

Emptying every table is the same as starting a new database, so the append-only triggers
(consent history, see consent migration 0005) are set aside on SQLite while it runs and put back
after, whatever happens. PostgreSQL's flush uses TRUNCATE, which row triggers do not see.
Tests that use real transactions (live server, worker processes) flush after each test.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands.flush import Command as DjangoFlush
from django.db import connections


class Command(DjangoFlush):
    help = DjangoFlush.help

    def handle(self, **options: Any) -> None:
        connection = connections[options["database"]]
        if connection.vendor != "sqlite":
            super().handle(**options)
            return
        with connection.cursor() as cursor:
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
            triggers = cursor.fetchall()
            for name, _ in triggers:
                cursor.execute(f"DROP TRIGGER {connection.ops.quote_name(name)}")
        try:
            super().handle(**options)
        finally:
            with connection.cursor() as cursor:
                for _, sql in triggers:
                    cursor.execute(sql)
