"""The simulator's webhooks: where its (signed, Twilio-format) callbacks arrive."""

from django.urls import path

from schoolsms.carriers.simulator import views

urlpatterns = [
    path("<str:sender_code>/status", views.status_callback, name="simulator-status"),
    path("<str:sender_code>/inbound", views.inbound, name="simulator-inbound"),
]
