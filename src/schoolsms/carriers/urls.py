"""Carrier webhooks, one prefix per carrier."""

from django.urls import include, path

urlpatterns = [
    path("simulator/", include("schoolsms.carriers.simulator.urls")),
]
