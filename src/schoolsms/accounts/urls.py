"""URLs of the Settings tab (mounted at /settings/)."""

from django.urls import path

from schoolsms.accounts import views

app_name = "accounts"

urlpatterns = [
    path("", views.organization_settings, name="organization"),
    path("users/", views.users, name="users"),
    path("users/role/", views.user_role, name="user-role"),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token-revoke"),
]
