from django.apps import AppConfig


class CarriersConfig(AppConfig):
    name = "schoolsms.carriers"
    label = "carriers"
