"""People the school texts (guardians, staff, students) and their phone numbers."""

from __future__ import annotations

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
