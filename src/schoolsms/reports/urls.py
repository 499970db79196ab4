"""URLs of the Reports tab, mounted at /reports/."""

from django.urls import path, re_path

from schoolsms.reports import views

app_name = "reports"

urlpatterns = [
    path("", views.index, name="index"),
    path("sms-log/", views.sms_log, name="sms-log"),
    path("sms-log/summary/", views.sms_log_summary_part, name="sms-log-summary"),
    re_path(r"^sms-log/export\.(?P<fmt>csv|xlsx)$", views.sms_log_export, name="sms-log-export"),
    path("sms-status/", views.sms_status, name="sms-status"),
    path("sms-status/all/", views.sms_status_all, name="sms-status-all"),
    re_path(
        r"^sms-status/export\.(?P<fmt>csv|xlsx)$", views.sms_status_export, name="sms-status-export"
    ),
]
