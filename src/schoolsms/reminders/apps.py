from django.apps import AppConfig


class RemindersConfig(AppConfig):
    name = "schoolsms.reminders"
    label = "reminders"
