"""The Reports tab: SMS Log and SMS Status, read from what the other apps store."""

from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "schoolsms.reports"
    label = "reports"
