from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "schoolsms.contacts"
    label = "contacts"
