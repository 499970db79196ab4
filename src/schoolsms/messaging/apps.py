from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "schoolsms.messaging"
    label = "messaging"

    def ready(self) -> None:
        from schoolsms.contacts.hooks import after_import_register
        from schoolsms.messaging.services import invitations_after_import

        after_import_register(invitations_after_import)
