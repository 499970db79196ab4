"""URLs of the Broadcasts tab (mounted at /broadcasts/)."""

from django.urls import path

from schoolsms.messaging import compose_views, invitation_views, views

app_name = "broadcasts"

urlpatterns = [
    path("", views.broadcast_list, name="list"),
    path("new/", compose_views.broadcast_new, name="new"),
    path("new/check/", compose_views.text_check_partial, name="check"),
    path("new/audience/", compose_views.audience_partial, name="audience"),
    path("<int:pk>/", views.broadcast_detail, name="detail"),
    path("<int:pk>/progress/", views.progress_partial, name="progress"),
    path("<int:pk>/send/", views.broadcast_send, name="send"),
    path("<int:pk>/cancel/", views.broadcast_cancel, name="cancel"),
    path("<int:pk>/edit/", compose_views.broadcast_edit, name="edit"),
    path("<int:pk>/delete/", compose_views.broadcast_delete, name="delete"),
    path("invitations/", invitation_views.invitations, name="invitations"),
]
