"""Reading a bundle's orgs, roles and users into checked contact rows, guardian links and the
users a delta removes, before anything is written (every problem names file, line, column)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from schoolsms.contacts.importer import LANGUAGE_CODE, ContactRow, PhoneParser, PhoneRow
from schoolsms.contacts.models import ContactRole
from schoolsms.contacts.oneroster.bundle import DELTA, ORGS, ROLES, USERS, Bundle
from schoolsms.csvimport import RowError, parse_flag

# OneRoster 1.1 roles, and the 1.2 additions, in SchoolSMS's three.
ROLE_MAP = {
    "student": ContactRole.STUDENT,
    "parent": ContactRole.GUARDIAN,
    "guardian": ContactRole.GUARDIAN,
    "relative": ContactRole.GUARDIAN,
    **{
        role.lower(): ContactRole.STAFF
        for role in (
            "teacher", "aide", "administrator", "proctor", "districtAdministrator",
            "siteAdministrator", "systemAdministrator", "principal", "counselor",
        )
    },
}  # fmt: skip
_MAX = {"sourcedId": 64, "givenName": 100, "familyName": 100, "email": 254}
_TOBEDELETED = "tobedeleted"


@dataclass
class Roster:
    """What a bundle says: the users it lists (as contact rows), the users a delta removes,
    guardian/student pairs by sourcedId, and the schools by sourcedId."""

    mode: str
    rows: list[ContactRow] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # tobedeleted sourcedIds
    agents: list[tuple[str, str]] = field(default_factory=list)  # (user, agent) as listed
    schools: dict[str, str] = field(default_factory=dict)  # org sourcedId -> name


def roster_read(
    bundle: Bundle,
    *,
    region: str,
    known_schools: dict[str, str],
    language_column: str = "",
    progress: Callable[[int], None] | None = None,
) -> tuple[Roster, list[RowError]]:
    """Every row of orgs.csv, roles.csv (1.2, when users.csv has no role) and users.csv checked."""
    roster = Roster(mode=bundle.users_mode)
    errors: list[RowError] = []
    org_types: dict[str, str] = {}
    if bundle.has(ORGS):
        errors += _orgs_read(bundle, roster, org_types)
    schools = {**known_schools, **roster.schools}
    users = bundle.csv(USERS, required=("sourcedid",))
    columns = set(users.columns)
    user_roles: dict[str, tuple[str, str]] = {}
    if users.errors:
        return roster, errors + users.errors
    has_role = "role" in columns
    if not has_role:
        if bundle.has(ROLES):
            errors += _roles_read(bundle, user_roles)
        else:
            errors.append(RowError(1, "role", "", "required column is missing (and there is "
                                   "no roles.csv to take the roles from)", USERS))  # fmt: skip
    language = language_column.strip().lower()
    if language and language not in columns:
        errors.append(RowError(1, language_column, "", "the column the roster settings name "
                               "for the language is missing", USERS))  # fmt: skip
    if errors:
        return roster, errors
    numbers = PhoneParser(region)
    first_line: dict[str, int] = {}
    count = 0
    error = users.error
    for row in users:
        count += 1
        if progress is not None and count % 1000 == 0:
            progress(count)
        line = row.line
        sourced_id = row.get("sourcedid")
        ok = True
        if not sourced_id:
            error(line, "sourcedId", "", "is required")
            continue
        if len(sourced_id) > _MAX["sourcedId"]:
            error(
                line, "sourcedId", sourced_id[:40], f"is longer than {_MAX['sourcedId']} characters"
            )
            continue
        if sourced_id in first_line:
            error(
                line,
                "sourcedId",
                sourced_id,
                f"is used twice (first on line {first_line[sourced_id]})",
            )
            continue
        first_line[sourced_id] = line
        status = row.get("status").lower()
        if status == _TOBEDELETED:
            if roster.mode == DELTA:
                roster.removed.append(sourced_id)
            continue  # in a bulk file, the same as not being listed
        if status not in ("", "active"):
            error(line, "status", row.get("status"), "must be active or tobedeleted")
            ok = False
        enabled = parse_flag(row.get("enableduser"), default=True)
        if enabled is None:
            error(line, "enabledUser", row.get("enableduser"), "must be true or false")
            ok = False
        names = {}
        for column in ("givenName", "familyName"):
            value = row.get(column.lower())
            if not value:
                error(line, column, "", "is required")
                ok = False
            elif len(value) > _MAX[column]:
                error(line, column, value[:40], f"is longer than {_MAX[column]} characters")
                ok = False
            names[column] = value
        if has_role:
            role_text = row.get("role")
            org_ids = [o.strip() for o in row.get("orgsourcedids").split(",") if o.strip()]
        else:
            role_text, role_org = user_roles.get(sourced_id, ("", ""))
            primary = row.get("primaryorgsourcedid")
            org_ids = [primary] if primary else [role_org] if role_org else []
        role = ROLE_MAP.get(role_text.lower())
        if role is None:
            error(line, "role", role_text, "must be one of " + ", ".join(sorted(ROLE_MAP)))
            ok = False
        school = ""
        for org_id in org_ids:
            if org_id not in schools:
                column = "orgSourcedIds" if has_role else "primaryOrgSourcedId"
                error(line, column, org_id, "names no org of orgs.csv")
                ok = False
        known = [o for o in org_ids if o in schools]
        if known:
            # A user of a school and of its district belongs to the school.
            school = next(
                (schools[o] for o in known if org_types.get(o) == "school"), schools[known[0]]
            )
        email = row.get("email")
        if email:
            if len(email) > _MAX["email"]:
                error(line, "email", email[:40], "is longer than 254 characters")
                ok = False
            else:
                try:
                    validate_email(email)
                except ValidationError:
                    error(line, "email", email, "is not an email address")
                    ok = False
        lang = row.get(language).lower() if language else ""
        if lang and not LANGUAGE_CODE.match(lang):
            error(line, language_column, row.get(language), "is not a language code like en or es")
            ok = False
        phones: dict[str, bool] = {}
        for column, sms in (("sms", True), ("phone", False)):
            raw = row.get(column)
            if not raw:
                continue
            e164, why = numbers.parse(raw)
            if why:
                error(line, column, raw, why)
                ok = False
                continue
            # `phone` the same number as `sms` is that one SMS number.
            phones[e164] = phones.get(e164, False) or sms
        for agent in row.get("agentsourcedids").split(","):
            if agent.strip():
                roster.agents.append((sourced_id, agent.strip()))
        if ok and role is not None:
            roster.rows.append(
                ContactRow(
                    line=line,
                    external_id=sourced_id,
                    first_name=names["givenName"],
                    last_name=names["familyName"],
                    email=email,
                    language=lang or "en",
                    role=role,
                    school=school,
                    phones=tuple(PhoneRow(p, s) for p, s in phones.items()),
                    active=bool(enabled),
                )
            )
    if progress is not None:
        progress(count)
    return roster, errors + users.errors


def _orgs_read(bundle: Bundle, roster: Roster, org_types: dict[str, str]) -> list[RowError]:
    orgs = bundle.csv(ORGS, required=("sourcedid", "name"))
    first_line: dict[str, int] = {}
    for row in orgs:
        sourced_id, name = row.get("sourcedid"), row.get("name")
        if not sourced_id:
            orgs.error(row.line, "sourcedId", "", "is required")
        elif sourced_id in first_line:
            orgs.error(row.line, "sourcedId", sourced_id,
                       f"is used twice (first on line {first_line[sourced_id]})")  # fmt: skip
        elif not name:
            orgs.error(row.line, "name", "", "is required")
        elif len(name) > 200:
            orgs.error(row.line, "name", name[:40], "is longer than 200 characters")
        else:
            first_line[sourced_id] = row.line
            if row.get("status").lower() != _TOBEDELETED:
                roster.schools[sourced_id] = name
                org_types[sourced_id] = row.get("type").lower()
    return orgs.errors


def _roles_read(bundle: Bundle, user_roles: dict[str, tuple[str, str]]) -> list[RowError]:
    """OneRoster 1.2: each user's primary role (else the first listed) and its org."""
    roles = bundle.csv(ROLES, required=("usersourcedid", "role"))
    for row in roles:
        if row.get("status").lower() == _TOBEDELETED:
            continue
        user = row.get("usersourcedid")
        primary = row.get("roletype").lower() == "primary"
        if user and (primary or user not in user_roles):
            user_roles[user] = (row.get("role"), row.get("orgsourcedid"))
    return roles.errors
