from django.apps import AppConfig


class CarriersConfig(AppConfig):
    name = "schoolsms.carriers"
    label = "carriers"

    def ready(self) -> None:
        from schoolsms.carriers.registry import register_all

        register_all()
