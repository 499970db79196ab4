from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "schoolsms.messaging"
    label = "messaging"
