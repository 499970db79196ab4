from django.apps import AppConfig


class OperationsConfig(AppConfig):
    name = "schoolsms.operations"
    label = "operations"
    verbose_name = "Operations"
