from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "schoolsms.core"
    label = "core"
    verbose_name = "SchoolSMS shell"
