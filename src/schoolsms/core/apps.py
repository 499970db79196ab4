from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "schoolsms.core"
    label = "core"
    verbose_name = "SchoolSMS shell"

    def ready(self) -> None:
        from schoolsms.core.retention import DAILY_PRUNE
        from schoolsms.operations.services import duty_register

        duty_register(DAILY_PRUNE)
