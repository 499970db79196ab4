"""URLs of the Contacts tab (mounted at /contacts/), including the block list pages."""

from django.urls import path

from schoolsms.consent import views as consent_views
from schoolsms.contacts import importviews, views

app_name = "contacts"

urlpatterns = [
    path("", views.contact_list, name="list"),
    path("<int:pk>/", views.contact_detail, name="detail"),
    path("import/", importviews.contact_import, name="import"),
    path("import/<int:pk>/", importviews.import_job_page, name="import-job"),
    path("import/<int:pk>/progress/", importviews.import_job_progress, name="import-progress"),
    path("import/<int:pk>/decide/", importviews.import_job_decide, name="import-decide"),
    path("sync/", importviews.roster_sync_settings, name="sync"),
    path("capability-reset/", views.phone_capability_reset, name="capability-reset"),
    path("blocked/", consent_views.blocked_list, name="blocked"),
    path("blocked/add/", consent_views.number_block, name="block"),
    path("blocked/remove/", consent_views.number_unblock, name="unblock"),
]
