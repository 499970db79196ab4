"""URLs of the Reminders tab (mounted at /reminders/)."""

from django.urls import path

from schoolsms.reminders import views

app_name = "reminders"

urlpatterns = [
    path("", views.index, name="index"),
    path("send/", views.send, name="send"),
    path("runs/<int:pk>/", views.run_detail, name="run"),
    path("runs/<int:pk>/progress/", views.run_progress, name="progress"),
    path("preview/email/", views.email_preview, name="email-preview"),
    path("flyer.pdf", views.flyer, name="flyer"),
]
