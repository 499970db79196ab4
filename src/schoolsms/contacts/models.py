"""People the school texts (guardians, staff, students), their numbers and guardian links; the
roster sync's settings and the record of every import."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from schoolsms.accounts.models import Organization
from schoolsms.constraints import one_of


class ContactRole(models.TextChoices):
    GUARDIAN = "guardian", "Guardian"
    STAFF = "staff", "Staff"
    STUDENT = "student", "Student"


class Contact(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="contacts"
    )
    external_id = models.CharField(max_length=64)  # the school information system's id
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    email = models.EmailField(blank=True)
    language = models.CharField(max_length=10, default="en")
    role = models.CharField(
        max_length=10, choices=ContactRole.choices, default=ContactRole.GUARDIAN
    )
    school = models.CharField(max_length=200, blank=True)
    # False: gone from the school system's roster (or disabled there). Never texted, but kept
    # with its numbers, consent and history, and active again when the roster lists it again.
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "external_id"], name="contact_external_id_unique"
            ),
            models.CheckConstraint(
                condition=one_of("role", ContactRole.values), name="contact_role_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "last_name", "first_name"], name="contact_name"),
            models.Index(fields=["organization", "role", "school"], name="contact_audience"),
            # The filters' lists of schools and languages read these one value at a time.
            models.Index(fields=["organization", "school"], name="contact_school"),
            models.Index(fields=["organization", "language"], name="contact_language"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class PhoneNumber(models.Model):
    """One of a contact's numbers, in the order the school system lists them."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="phones")
    position = models.PositiveSmallIntegerField()
    phone = models.CharField(max_length=16)  # E.164
    sms_enabled = models.BooleanField(default=True)
    # Cleared after repeated permanent delivery failures (landline, dead line); an admin can reset.
    sms_capable = models.BooleanField(default=True)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["contact", "position"], name="phone_position_unique")
        ]
        indexes = [models.Index(fields=["phone"], name="phone_e164")]

    def __str__(self) -> str:
        return self.phone


class GuardianLink(models.Model):
    """A guardian of a student, as the school system's roster says (OneRoster agents)."""

    guardian = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="student_links")
    student = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="guardian_links")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["guardian", "student"], name="guardian_link_unique"),
            models.CheckConstraint(
                condition=~models.Q(guardian=models.F("student")), name="guardian_link_not_self"
            ),
        ]
        indexes = [models.Index(fields=["student"], name="guardian_link_student")]

    def __str__(self) -> str:
        return f"{self.guardian_id} -> {self.student_id}"


class RosterSchool(models.Model):
    """A school (OneRoster org) seen in a bundle, so a delta bundle may name it by id alone."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    sourced_id = models.CharField(max_length=255)
    name = models.CharField(max_length=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "sourced_id"], name="roster_school_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name


class RosterSettings(models.Model):
    """How an organization's roster arrives: the drop folder the worker watches, the column
    that holds a user's language, and how much one sync may inactivate without an admin."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="roster_settings"
    )
    folder = models.CharField(max_length=500, blank=True)  # empty: no nightly sync
    language_column = models.CharField(max_length=100, blank=True)  # e.g. metadata.language
    inactivate_limit_percent = models.PositiveSmallIntegerField(default=20)

    def __str__(self) -> str:
        return self.folder or "(no drop folder)"


class ImportKind(models.TextChoices):
    CONTACTS = "contacts", "Contacts CSV"
    CONSENT = "consent", "Consent CSV"
    ONEROSTER = "oneroster", "OneRoster bundle"


class ImportSource(models.TextChoices):
    WEB = "web", "Uploaded"
    FOLDER = "folder", "Drop folder"


class ImportStatus(models.TextChoices):
    QUEUED = "queued", "Waiting for the worker"
    CHECKING = "checking", "Checking rows"
    SAVING = "saving", "Saving"
    DONE = "done", "Imported"
    FAILED = "failed", "Nothing imported"
    CONFIRM = "confirm", "Waiting for an admin"
    DISCARDED = "discarded", "Discarded"


class ImportJob(models.Model):
    """One import of a file, run by the worker: its progress, then its summary or its errors.

    queued -> checking -> saving -> done | failed; a roster that would inactivate too many
    contacts stops at confirm, then goes back to queued (confirmed) or to discarded."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=ImportKind.choices)
    source = models.CharField(max_length=10, choices=ImportSource.choices)
    status = models.CharField(
        max_length=10, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    filename = models.CharField(max_length=255)  # as the user named it
    path = models.CharField(max_length=1000)  # where the file waits on this machine
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmed = models.BooleanField(default=False)  # an admin allowed a large inactivation
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    summary = models.JSONField(default=dict, blank=True)
    # The first errors (see contacts.importreport), how many there were in all, and how many
    # of each kind, so a file with 50,000 bad columns makes a short page.
    errors = models.JSONField(default=list, blank=True)
    error_count = models.PositiveIntegerField(default=0)
    error_kinds = models.JSONField(default=list, blank=True)
    message = models.TextField(blank=True)  # why it stopped, in one sentence
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=one_of("kind", ImportKind.values), name="import_kind"),
            models.CheckConstraint(
                condition=one_of("status", ImportStatus.values), name="import_status"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "source", "-created_at"], name="import_recent")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.filename} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in (ImportStatus.QUEUED, ImportStatus.CHECKING, ImportStatus.SAVING)

    @property
    def percent(self) -> int:
        if not self.rows_total:
            return 0
        return min(100, self.rows_done * 100 // self.rows_total)
