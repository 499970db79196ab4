"""`schoolsms serve`: the web app under gunicorn plus a background worker, stopped together."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from schoolsms import localfiles
from schoolsms.env import env_int, env_str


class Command(BaseCommand):
    help = "Serve the web app (gunicorn) and run a background worker; Ctrl-C stops both."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=env_str("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=env_int("PORT", 8000, minimum=1))
        parser.add_argument(
            "--workers",
            type=int,
            default=env_int("WEB_CONCURRENCY", 2, minimum=1),
            help="gunicorn worker processes",
        )
        parser.add_argument("--no-worker", action="store_true", help="serve pages only")

    def handle(self, *args: Any, **options: Any) -> None:
        localfiles.local_files_create()
        missing = localfiles.database_missing()
        if missing is not None:
            self.stderr.write(f"no database at {missing}: creating it (schoolsms migrate)")
            call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        children: list[tuple[str, subprocess.Popen[bytes]]] = []
        web_cmd = [
            sys.executable,
            "-m",
            "gunicorn",
            "schoolsms.wsgi:application",
            "--config",
            "python:schoolsms.core.gunicorn_conf",
            "--bind",
            f"{options['host']}:{options['port']}",
            "--workers",
            str(options["workers"]),
            "--access-logfile",
            "-",
            "--graceful-timeout",
            "10",
        ]
        children.append(("web server", subprocess.Popen(web_cmd)))
        if not options["no_worker"]:
            worker = subprocess.Popen([sys.executable, "-m", "schoolsms", "worker"])
            children.append(("worker", worker))

        stopping = False

        def stop(signum: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        self.stdout.write(f"Serving on http://{options['host']}:{options['port']}/ (Ctrl-C stops)")
        code = 0
        try:
            while not stopping:
                for name, child in children:
                    if child.poll() is not None:
                        self.stderr.write(f"the {name} exited with {child.returncode}; stopping")
                        code = child.returncode or 1
                        stopping = True
                time.sleep(0.3)
        finally:
            for _, child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 15
            for _, child in children:
                try:
                    child.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.kill()
        if code:
            sys.exit(code)
