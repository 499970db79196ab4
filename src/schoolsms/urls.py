"""URL map: the web tabs, the JSON API and the carrier webhooks."""

from importlib import import_module

from django.contrib.auth import views as auth_views
from django.urls import include, path

from schoolsms.api import api
from schoolsms.carriers import views as carrier_views
from schoolsms.core import metrics as core_metrics
from schoolsms.core import views as core_views
from schoolsms.messaging import reply_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("metrics", core_metrics.metrics, name="metrics"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("org/switch/", core_views.switch_organization, name="switch-organization"),
    path("api/v1/", api.urls),
    path("settings/carrier/", carrier_views.carrier_settings, name="carrier-settings"),
    path("settings/replies/", reply_views.reply_settings, name="reply-settings"),
    # The addresses entered in the Twilio console, exactly.
    path("webhooks/twilio/", include("schoolsms.carriers.twilio.urls")),
]

# Each app with pages has urls.py; mounted under its tab.
for _app, _prefix in [
    ("contacts", "contacts/"),
    ("messaging", "broadcasts/"),
    ("reports", "reports/"),
    ("reminders", "reminders/"),
    ("accounts", "settings/"),
    ("carriers", "carriers/"),
]:
    try:
        import_module(f"schoolsms.{_app}.urls")
    except ModuleNotFoundError as exc:
        if exc.name != f"schoolsms.{_app}.urls":
            raise
        continue
    urlpatterns.append(path(_prefix, include(f"schoolsms.{_app}.urls")))
