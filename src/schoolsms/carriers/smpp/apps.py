"""The SMPP gateway as a Django app."""

from django.apps import AppConfig


class SmppConfig(AppConfig):
    name = "schoolsms.carriers.smpp"
    label = "carrier_smpp"
