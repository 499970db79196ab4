from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "schoolsms.messaging"
    label = "messaging"

    def ready(self) -> None:
        from schoolsms.contacts.hooks import after_import_register
        from schoolsms.contacts.panels import contact_panel_register
        from schoolsms.messaging.panels import contact_texts_panel
        from schoolsms.messaging.services import invitations_after_import

        after_import_register(invitations_after_import)
        contact_panel_register(contact_texts_panel)
