"""Demo data: a fictional district with contacts, numbers, consent history and a block list.

Deterministic (one seeded random generator) so screenshots and tests see the same district;
only the admin's password is random. Every phone number is in the NANP range reserved for
fiction (555-0100 to 555-0199). Apps above contacts extend the demo with a
`demo_extend(district: DemoDistrict)` function in their own `demo.py` (see `_extend`).
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from schoolsms.accounts.models import Organization
from schoolsms.accounts.services import organization_create, user_create
from schoolsms.consent.models import ConsentSource, ConsentStatus
from schoolsms.consent.services import (
    ConsentChange,
    consent_change_many,
    consent_create_pending,
    number_block,
)
from schoolsms.contacts.models import Contact, ContactRole, PhoneNumber

SLUG = "springfield"
NAME = "Springfield Public Schools"
SENDER = "67587"
PROGRAM = "Springfield Schools Alerts"
HELP_CONTACT = "help@springfield.example.org or (217) 555-0100"
ADMIN_EMAIL = "admin@springfield.example.org"
SCHOOLS = ("Lincoln Elementary", "Roosevelt High")
CREDENTIALS_FILE = "demo-credentials.txt"

# Real area codes around the country; with 555-0100…0199 each gives 100 fictional numbers.
AREA_CODES = (
    "217", "309", "312", "618", "630", "773", "815", "847", "417", "413",
    "937", "541", "202", "212", "213", "214", "303", "305", "310", "404",
    "415", "503", "510", "512", "602", "612", "614", "617", "703", "718",
)  # fmt: skip

FIRST_NAMES = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah",
    "Christopher", "Karen", "Daniel", "Lisa", "Matthew", "Nancy", "Anthony", "Betty", "Mark",
    "Sandra", "Donald", "Ashley", "Steven", "Kimberly", "Andrew", "Emily", "Joshua", "Donna",
    "Kevin", "Michelle", "Brian", "Carol", "Aisha", "Wei", "Priya", "Darnell", "Keisha", "Tyrone",
    "Mei", "Hiroshi", "Fatima", "Omar", "Nguyen", "Anh", "Olga", "Dmitri", "Ngozi", "Kwame",
    "Siobhan", "Liam", "Aaliyah", "Jamal", "Rahul", "Anjali", "Yusuf", "Leila", "Grace", "Noah",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson",
    "Taylor", "Thomas", "Moore", "Jackson", "Martin", "Lee", "Thompson", "White", "Harris",
    "Clark", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Green",
    "Baker", "Adams", "Nelson", "Hill", "Campbell", "Mitchell", "Roberts", "Carter", "Phillips",
    "Evans", "Turner", "Patel", "Chen", "Nguyen", "Kim", "Okafor", "Washington", "O'Brien",
    "Kowalski", "Schmidt", "Murphy", "Cohen", "Ali", "Khan", "Tanaka", "Ivanova", "Mensah",
)  # fmt: skip
SPANISH_FIRST = (
    "José", "María", "Juan", "Guadalupe", "Luis", "Rosa", "Carlos", "Ana", "Jorge", "Lucía",
    "Miguel", "Carmen", "Alejandro", "Sofía", "Javier", "Isabel", "Fernando", "Gabriela",
)  # fmt: skip
SPANISH_LAST = (
    "García", "Rodríguez", "Martínez", "Hernández", "López", "González", "Pérez", "Sánchez",
    "Ramírez", "Torres", "Flores", "Rivera", "Gómez", "Díaz", "Reyes", "Morales", "Ortiz",
)  # fmt: skip


@dataclass
class DemoPerson:
    external_id: str
    first_name: str
    last_name: str
    email: str
    language: str
    role: str
    school: str
    phones: list[tuple[str, bool]]  # (E.164, SMS enabled)


@dataclass
class DemoDistrict:
    organization: Organization
    admin: User
    password: str
    contacts: int = 0
    numbers: dict[str, int] = field(default_factory=dict)  # consent status → count


def demo_people(count: int = 2000, seed: int = 2026) -> list[DemoPerson]:
    """The district's people, the same every time for the same seed."""
    rng = random.Random(seed)
    pool = [f"+1{ac}5550{n}" for ac in AREA_CODES for n in range(100, 200)]
    rng.shuffle(pool)
    next_number = iter(pool)
    people: list[DemoPerson] = []
    household: tuple[str, str] | None = None  # (last name, shared number) of the previous parent
    for i in range(count):
        role = rng.choices(
            (ContactRole.GUARDIAN, ContactRole.STAFF, ContactRole.STUDENT), (84, 8, 8)
        )[0]
        school = SCHOOLS[0] if role != ContactRole.STUDENT and rng.random() < 0.55 else SCHOOLS[1]
        spanish = role != ContactRole.STAFF and rng.random() < 0.15
        first = rng.choice(SPANISH_FIRST if spanish else FIRST_NAMES)
        last = rng.choice(SPANISH_LAST if spanish else LAST_NAMES)
        phones: list[tuple[str, bool]] = []
        if role == ContactRole.GUARDIAN and household and rng.random() < 0.12:
            # A second parent of the same household: same surname, same home number.
            last = household[0]
            phones.append((household[1], True))
        roll = rng.random()
        if roll < 0.03:
            pass  # no number at all
        elif roll < 0.06:
            phones.append((next(next_number), False))  # only a landline
        else:
            phones.append((next(next_number), True))
            if rng.random() < 0.25:
                phones.append((next(next_number), rng.random() < 0.3))  # home line, often sms=no
        household = (last, phones[0][0]) if phones else None
        domain = "springfield.example.org" if role == ContactRole.STAFF else "example.com"
        email = (
            f"{_ascii(first)}.{_ascii(last)}{i}@{domain}".lower()
            if role == ContactRole.STAFF or rng.random() < 0.8
            else ""
        )
        people.append(
            DemoPerson(
                external_id=f"{'S' if role == ContactRole.STAFF else 'P'}{100000 + i}",
                first_name=first,
                last_name=last,
                email=email,
                language="es" if spanish else "en",
                role=role,
                school=school,
                phones=phones,
            )
        )
    return people


def _ascii(text: str) -> str:
    return "".join(c for c in text.translate(str.maketrans("áéíóúñü", "aeiounu")) if c.isalpha())


def demo_create(*, count: int = 2000, seed: int = 2026) -> DemoDistrict:
    """Create the demo district in one transaction; fails if its slug is taken."""
    rng = random.Random(seed + 1)
    people = demo_people(count, seed)
    now = timezone.now()
    start = now - dt.timedelta(days=120)
    with transaction.atomic():
        org = organization_create(
            slug=SLUG,
            name=NAME,
            sender_code=SENDER,
            program_name=PROGRAM,
            help_contact=HELP_CONTACT,
            timezone="America/Chicago",
        )
        admin, password = user_create(organization=org, email=ADMIN_EMAIL, role="admin")
        if password is None:  # the admin existed already (another district); give a new one
            password = _reset_password(admin)
        contacts = Contact.objects.bulk_create(
            Contact(
                organization=org,
                external_id=p.external_id,
                first_name=p.first_name,
                last_name=p.last_name,
                email=p.email,
                language=p.language,
                role=p.role,
                school=p.school,
            )
            for p in people
        )
        PhoneNumber.objects.bulk_create(
            PhoneNumber(contact=c, position=n, phone=phone, sms_enabled=sms)
            for c, p in zip(contacts, people, strict=True)
            for n, (phone, sms) in enumerate(p.phones, start=1)
        )
        sms_numbers = sorted({ph for p in people for ph, sms in p.phones if sms})
        counts = _consent(org, sms_numbers, rng, start, now)
        for phone, reason in [
            (sms_numbers[7], "Parent asked by phone not to be texted"),
            (sms_numbers[99], "Wrong number: belongs to someone outside the district"),
            (sms_numbers[404], "Court order"),
            (sms_numbers[1200], "Reported as harassment"),
        ]:
            number_block(organization=org, phone=phone, reason=reason, actor=admin)
        district = DemoDistrict(org, admin, password, contacts=len(contacts), numbers=counts)
        _extend(district)
    return district


# Apps above contacts add to the demo with `demo_extend(district)` in `schoolsms/<app>/demo.py`.
EXTENDING_APPS = ("messaging", "carriers", "reports", "reminders")


def _extend(district: DemoDistrict) -> None:
    for app in EXTENDING_APPS:
        try:
            module = import_module(f"schoolsms.{app}.demo")
        except ModuleNotFoundError as exc:
            if exc.name != f"schoolsms.{app}.demo":
                raise
            continue
        module.demo_extend(district)


def _consent(
    org: Organization, numbers: list[str], rng: random.Random, start: dt.datetime, now: dt.datetime
) -> dict[str, int]:
    """About 70% opted in, 20% pending, 7% opted out, 3% with no record at all."""
    with_record = [n for n in numbers if rng.random() >= 0.03]
    consent_create_pending(sender=org.sender, phones=with_record, organization=org, at=start)
    span = (now - start).total_seconds()
    opt_ins: dict[tuple[str, str], list[ConsentChange]] = {}
    opt_outs: dict[str, list[ConsentChange]] = {}
    pending = ConsentStatus.PENDING_OPT_IN
    for phone in with_record:
        roll = rng.random()
        if roll < 0.21:
            continue
        opted_in_at = start + dt.timedelta(seconds=rng.uniform(0.05, 0.6) * span)
        how = rng.choice(_OPT_IN_HOW)
        opt_ins.setdefault(how, []).append(
            ConsentChange(phone, pending, ConsentStatus.OPTED_IN, opted_in_at)
        )
        if roll >= 0.93:
            stop_at = opted_in_at + dt.timedelta(seconds=rng.uniform(0.1, 0.35) * span)
            opt_outs.setdefault(rng.choice(_STOP_WORDS), []).append(
                ConsentChange(phone, ConsentStatus.OPTED_IN, ConsentStatus.OPTED_OUT, stop_at)
            )
    for (source, text), changes in opt_ins.items():
        consent_change_many(
            sender=org.sender, changes=changes, source=source, text=text, organization=org
        )
    for text, changes in opt_outs.items():
        consent_change_many(
            sender=org.sender,
            changes=changes,
            source=ConsentSource.KEYWORD,
            text=text,
            organization=org,
        )
    opted_in = sum(len(c) for c in opt_ins.values())
    opted_out = sum(len(c) for c in opt_outs.values())
    return {
        "none": len(numbers) - len(with_record),
        pending: len(with_record) - opted_in,
        ConsentStatus.OPTED_IN: opted_in - opted_out,
        ConsentStatus.OPTED_OUT: opted_out,
    }


_OPT_IN_HOW = [(ConsentSource.KEYWORD, "Y")] * 6 + [
    (ConsentSource.KEYWORD, "yes"),
    (ConsentSource.KEYWORD, "START"),
    (ConsentSource.WEB, "Parent confirmed at registration"),
]
_STOP_WORDS = ["STOP", "stop", "Stop", "UNSUBSCRIBE", "quit", "STOP!"]


def _reset_password(user: User) -> str:
    password = secrets.token_urlsafe(12)
    user.set_password(password)
    user.save(update_fields=["password"])
    return password


def credentials_path() -> Path:
    return Path(settings.VAR_DIR) / CREDENTIALS_FILE


def credentials_save(email: str, password: str) -> None:
    path = credentials_path()
    path.write_text(f"{email}\n{password}\n")
    path.chmod(0o600)


def credentials_load() -> tuple[str, str] | None:
    try:
        email, password = credentials_path().read_text().split()[:2]
    except (OSError, ValueError):
        return None
    return email, password
