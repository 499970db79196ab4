from django.apps import AppConfig


class RemindersConfig(AppConfig):
    name = "schoolsms.reminders"
    label = "reminders"

    def ready(self) -> None:
        from schoolsms.contacts.panels import contact_panel_register
        from schoolsms.reminders.panels import contact_reminders_panel

        contact_panel_register(contact_reminders_panel)
