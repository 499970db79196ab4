"""OneRoster bundles built in the tests from the specification's CSV columns (OneRoster 1.1
CSV tables: manifest.csv, orgs.csv, users.csv; 1.2: roles.csv), never copied sample files."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Mapping, Sequence

MANIFEST_COLUMNS = ["propertyName", "value"]
ORG_COLUMNS = ["sourcedId", "status", "dateLastModified", "name", "type", "identifier",
               "parentSourcedId"]  # fmt: skip
USER_COLUMNS = ["sourcedId", "status", "dateLastModified", "enabledUser", "orgSourcedIds", "role",
                "username", "userIds", "givenName", "familyName", "middleName", "identifier",
                "email", "sms", "phone", "agentSourcedIds", "grades", "password"]  # fmt: skip
# 1.2 moved role and orgSourcedIds out of users.csv (into roles.csv) and added these.
USER_COLUMNS_12 = [c for c in USER_COLUMNS if c not in ("role", "orgSourcedIds")] + [
    "userMasterIdentifier", "preferredGivenName", "preferredMiddleName", "preferredFamilyName",
    "primaryOrgSourcedId", "pronouns"]  # fmt: skip
ROLE_COLUMNS = ["sourcedId", "status", "dateLastModified", "userSourcedId", "roleType", "role",
                "orgSourcedId", "userProfileSourcedId", "beginDate", "endDate"]  # fmt: skip
ALL_FILES = ["academicSessions", "categories", "classes", "classResources", "courses",
             "courseResources", "demographics", "enrollments", "lineItems", "orgs", "resources",
             "results", "users"]  # fmt: skip

ORGS = [
    {"sourcedId": "district", "name": "Springfield District", "type": "district"},
    {"sourcedId": "org-lincoln", "name": "Lincoln Elementary", "type": "school",
     "parentSourcedId": "district"},
    {"sourcedId": "org-central", "name": "Central High", "type": "school",
     "parentSourcedId": "district"},
]  # fmt: skip


def user(
    sourced_id: str,
    given: str,
    family: str,
    role: str = "parent",
    org: str = "org-lincoln",
    **fields: str,
) -> dict[str, str]:
    """A users.csv row; keyword names are the specification's column names."""
    return {
        "sourcedId": sourced_id,
        "enabledUser": "true",
        "orgSourcedIds": org,
        "role": role,
        "username": sourced_id.lower(),
        "givenName": given,
        "familyName": family,
        **fields,
    }


def table(columns: Sequence[str], rows: Sequence[Mapping[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: row.get(c, "") for c in columns})
    return out.getvalue()


def bundle(
    users: Sequence[Mapping[str, str]],
    *,
    orgs: Sequence[Mapping[str, str]] = ORGS,
    mode: str = "bulk",
    version: str = "1.1",
    manifest_version: str = "1.0",
    user_columns: Sequence[str] | None = None,
    roles: Sequence[Mapping[str, str]] | None = None,
    files: Mapping[str, str] | None = None,
    leave_out: Sequence[str] = (),
    folder: str = "",
) -> bytes:
    """A zip as a student information system exports it. `files` replaces or adds members
    verbatim; `leave_out` drops members (e.g. "orgs.csv")."""
    if user_columns is None:
        user_columns = USER_COLUMNS_12 if version == "1.2" else USER_COLUMNS
        extra = sorted({k for u in users for k in u if k not in user_columns})
        user_columns = [*user_columns, *extra]
    present = {"orgs", "users"} | ({"roles"} if roles is not None else set())
    manifest = [
        {"propertyName": "manifest.version", "value": manifest_version},
        {"propertyName": "oneroster.version", "value": version},
        *(
            {"propertyName": f"file.{name}", "value": mode if name in present else "absent"}
            for name in [*ALL_FILES, *(["roles"] if version == "1.2" else [])]
        ),
        {"propertyName": "source.systemName", "value": "Test SIS"},
        {"propertyName": "source.systemCode", "value": "test"},
    ]
    members = {
        "manifest.csv": table(MANIFEST_COLUMNS, manifest),
        "orgs.csv": table(ORG_COLUMNS, orgs),
        "users.csv": table(user_columns, users),
    }
    if roles is not None:
        members["roles.csv"] = table(ROLE_COLUMNS, roles)
    members.update(files or {})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in members.items():
            if name not in leave_out:
                archive.writestr(f"{folder}{name}", text.encode("utf-8"))
    return buffer.getvalue()
