from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "schoolsms.consent"
    label = "consent"
