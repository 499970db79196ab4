from django.apps import AppConfig


class TwilioConfig(AppConfig):
    name = "schoolsms.carriers.twilio"
    label = "carrier_twilio"
    verbose_name = "Twilio gateway"
