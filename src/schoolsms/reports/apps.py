from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "schoolsms.reports"
    label = "reports"
