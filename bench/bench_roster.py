"""OneRoster import speed (issue 15): a 300,000-user bundle must import in at most twice the
time of the plain CSV import of the same contacts, measured in the same run.

The roster: students (no numbers, each naming one or two guardians in agentSourcedIds),
guardians (an SMS number and a second number) and staff, over six schools. The plain CSV holds
the same contacts with the same values. Each file is imported by `schoolsms contacts import`
into a fresh organization with its own sender (so neither finds the other's consent records),
CSV first, then the bundle; best of two rounds each. Files stay in BENCH_ROSTER_VAR (/tmp).
"""

from __future__ import annotations

import csv
import io
import os
import random
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import CONTACT_COLUMNS, Figure, fresh_var, local_number, schoolsms_timed  # noqa: E402

VAR = Path(os.environ.get("BENCH_ROSTER_VAR", "/tmp/schoolsms-bench-roster"))
SCHOOLS = [(f"org-{i}", f"School {i}") for i in range(6)]
USER_COLUMNS = ["sourcedId", "status", "dateLastModified", "enabledUser", "orgSourcedIds", "role",
                "username", "userIds", "givenName", "familyName", "middleName", "identifier",
                "email", "sms", "phone", "agentSourcedIds", "grades", "password"]  # fmt: skip
ROLES = {"student": "student", "parent": "guardian", "teacher": "staff"}


def _people(users: int) -> list[dict[str, str]]:
    rng = random.Random(15)

    staff = users // 15
    students = (users - staff) * 2 // 5
    guardians = users - staff - students
    people: list[dict[str, str]] = []
    for i in range(guardians):
        people.append({"sourcedId": f"G{i:07d}", "role": "parent", "givenName": "Rosa",
                       "familyName": f"Lopez{i % 997}", "email": f"g{i}@example.org",
                       "sms": local_number(rng), "phone": local_number(rng),
                       "agentSourcedIds": ""})  # fmt: skip
    for i in range(students):
        agents = [f"G{(2 * i) % guardians:07d}"]
        if i % 3:
            agents.append(f"G{(2 * i + 1) % guardians:07d}")
        people.append({"sourcedId": f"S{i:07d}", "role": "student", "givenName": "Maya",
                       "familyName": f"Lopez{i % 997}", "email": "", "sms": "", "phone": "",
                       "agentSourcedIds": ",".join(agents)})  # fmt: skip
    for i in range(staff):
        people.append({"sourcedId": f"T{i:07d}", "role": "teacher", "givenName": "Alan",
                       "familyName": f"Turing{i % 97}", "email": f"t{i}@example.org",
                       "sms": local_number(rng), "phone": "", "agentSourcedIds": ""})  # fmt: skip
    for n, person in enumerate(people):
        person["school"] = SCHOOLS[n % len(SCHOOLS)][0]
    return people


def _write(users: int) -> tuple[Path, Path]:
    people = _people(users)
    names = dict(SCHOOLS)
    plain = VAR / f"contacts-{users}.csv"
    with plain.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(CONTACT_COLUMNS)
        for p in people:
            w.writerow([p["sourcedId"], p["givenName"], p["familyName"], p["email"],
                        ROLES[p["role"]], names[p["school"]], p["sms"], "yes" if p["sms"] else "",
                        p["phone"], "no" if p["phone"] else ""])  # fmt: skip
    users_csv = io.StringIO()
    w = csv.DictWriter(users_csv, fieldnames=USER_COLUMNS, lineterminator="\r\n")
    w.writeheader()
    for p in people:
        w.writerow({"sourcedId": p["sourcedId"], "enabledUser": "true",
                    "orgSourcedIds": p["school"], "role": p["role"], "givenName": p["givenName"],
                    "familyName": p["familyName"], "email": p["email"], "sms": p["sms"],
                    "phone": p["phone"], "agentSourcedIds": p["agentSourcedIds"]})  # fmt: skip
    orgs = "sourcedId,status,dateLastModified,name,type\r\n" + "".join(
        f"{sid},,,{name},school\r\n" for sid, name in SCHOOLS
    )
    manifest = "propertyName,value\r\nmanifest.version,1.0\r\noneroster.version,1.1\r\n" + (
        "file.orgs,bulk\r\nfile.users,bulk\r\n"
    )
    bundle = VAR / f"roster-{users}.zip"
    with zipfile.ZipFile(bundle, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("manifest.csv", manifest)
        z.writestr("orgs.csv", orgs)
        z.writestr("users.csv", users_csv.getvalue())
    return plain, bundle


def run(scale: float) -> list[Figure]:
    users = max(int(300_000 * scale), 300)
    fresh_var(VAR)
    plain, bundle = _write(users)
    best = {"csv": float("inf"), "roster": float("inf")}
    for round_ in range(2):
        for kind, path in (("csv", plain), ("roster", bundle)):
            slug = f"{kind}{round_}"
            code = str(60000 + round_ * 10 + (kind == "roster"))
            schoolsms_timed(VAR, "org", "create", "--slug", slug, "--name", slug, "--sender", code)
            seconds = schoolsms_timed(VAR, "contacts", "import", "--org", slug, str(path))
            best[kind] = min(best[kind], seconds)
    return [
        Figure(
            name=f"OneRoster bundle import ({users:,} users)",
            ours_seconds=best["roster"],
            baseline_name="plain CSV import of the same contacts",
            baseline_seconds=best["csv"],
            limit_ratio=2.0,
            rows=users,
            extra={"bundle_bytes": bundle.stat().st_size, "csv_bytes": plain.stat().st_size},
        )
    ]
