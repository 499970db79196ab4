"""A OneRoster CSV bundle (a .zip): recognising one, its manifest, and its member files."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from typing import BinaryIO

from schoolsms.csvimport import CsvFile, RowError

MANIFEST = "manifest.csv"
ORGS = "orgs.csv"
USERS = "users.csv"
ROLES = "roles.csv"
MANIFEST_VERSIONS = frozenset({"1.0"})
ONEROSTER_VERSIONS = frozenset({"1.1", "1.2"})
BULK, DELTA, ABSENT = "bulk", "delta", "absent"
# A member expands to at most this many times the bundle's own size: a guard against a
# crafted zip that would fill the disk or memory (real rosters compress about 10:1).
MAX_EXPANSION = 200
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


def is_bundle(file: BinaryIO) -> bool:
    """A zip file (recognised by its first bytes, whatever its name); the position is kept."""
    start = file.tell()
    head = file.read(4)
    file.seek(start)
    return head in _ZIP_MAGIC


class BundleError(Exception):
    """The bundle cannot be read as OneRoster; `errors` says why (file, line, column)."""

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = errors
        super().__init__(str(errors[0]) if errors else "not a OneRoster bundle")


def _problem(
    file: str, message: str, *, line: int = 0, column: str = "", value: str = ""
) -> RowError:
    return RowError(line, column, value, message, file)


@dataclass
class Bundle:
    """An open bundle: the manifest's versions and modes, and its member files by name."""

    zip: zipfile.ZipFile
    members: dict[str, zipfile.ZipInfo]
    oneroster_version: str = "1.1"
    modes: dict[str, str] = field(default_factory=dict)  # orgs/users/roles -> bulk|delta|absent

    @property
    def users_mode(self) -> str:
        return self.modes.get("users", BULK)

    def has(self, name: str) -> bool:
        return name in self.members

    def open(self, name: str) -> BinaryIO:
        return io.BytesIO(self.zip.read(self.members[name]))

    def csv(self, name: str, *, required: tuple[str, ...]) -> CsvFile:
        # OneRoster files carry many columns we do not use; any column is allowed.
        return CsvFile(self.open(name), required=required, allowed=lambda _c: True, name=name)


def bundle_open(file: BinaryIO, *, size: int) -> Bundle:
    """Open and check a bundle: a zip whose manifest.csv names a known version and whose
    required files (manifest.csv, orgs.csv, users.csv) are there. Raises BundleError."""
    try:
        archive = zipfile.ZipFile(file)
    except (zipfile.BadZipFile, OSError) as exc:
        raise BundleError(
            [_problem("", f"the file is not a readable zip archive ({exc})")]
        ) from None
    members: dict[str, zipfile.ZipInfo] = {}
    for info in archive.infolist():
        if info.is_dir():
            continue
        # Zipping a folder puts every file under the folder's name; the files count as top-level.
        name = info.filename.rsplit("/", 1)[-1]
        if name.lower().endswith(".csv"):
            members.setdefault(name, info)
    if MANIFEST not in members:
        raise BundleError(
            [
                _problem(
                    MANIFEST,
                    "this zip is not a OneRoster bundle: required file manifest.csv is missing",
                )
            ]
        )
    limit = max(size, 1 << 20) * MAX_EXPANSION
    for name, info in members.items():
        if info.file_size > limit:
            raise BundleError(
                [_problem(name, f"expands to {info.file_size:,} bytes, too large to be a roster")]
            )
    bundle = Bundle(zip=archive, members=members)
    _read_manifest(bundle)
    return bundle


def _read_manifest(bundle: Bundle) -> None:
    manifest = bundle.csv(MANIFEST, required=("propertyname", "value"))
    errors = manifest.errors
    props: dict[str, tuple[int, str]] = {}
    for row in manifest:
        props[row.get("propertyname").lower()] = (row.line, row.get("value"))
    errors = manifest.errors
    if errors:
        raise BundleError(errors)

    def check(name: str, allowed: frozenset[str], what: str) -> str:
        line, value = props.get(name, (0, ""))
        if value not in allowed:
            shown = value or "(missing)"
            errors.append(
                _problem(
                    MANIFEST,
                    f"unknown {what} {shown}; this version of SchoolSMS reads "
                    + ", ".join(sorted(allowed)),
                    line=line,
                    column="value" if line else "",
                    value=value,
                )
            )
        return value

    check("manifest.version", MANIFEST_VERSIONS, "manifest.version")
    bundle.oneroster_version = check("oneroster.version", ONEROSTER_VERSIONS, "oneroster.version")
    for kind in ("orgs", "users", "roles"):
        line, value = props.get(f"file.{kind}", (0, ""))
        mode = value.lower() or (BULK if bundle.has(f"{kind}.csv") else ABSENT)
        if mode not in (BULK, DELTA, ABSENT):
            errors.append(
                _problem(
                    MANIFEST,
                    "must be bulk, delta or absent",
                    line=line,
                    column="value",
                    value=value,
                )
            )
        bundle.modes[kind] = mode
    if bundle.modes["users"] == ABSENT or not bundle.has(USERS):
        errors.append(_problem(USERS, "required file users.csv is missing"))
    # A delta may leave the schools out: the ones seen before are remembered.
    if not bundle.has(ORGS) and not (bundle.modes["orgs"] == ABSENT and bundle.users_mode == DELTA):
        errors.append(_problem(ORGS, "required file orgs.csv is missing"))
    if errors:
        raise BundleError(errors)
