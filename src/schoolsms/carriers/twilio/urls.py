"""Twilio's webhooks, mounted at /webhooks/twilio/ (the addresses to enter in the console)."""

from django.urls import path

from schoolsms.carriers.twilio import views

urlpatterns = [
    path("status", views.status, name="twilio-status"),
    path("inbound", views.inbound, name="twilio-inbound"),
]
