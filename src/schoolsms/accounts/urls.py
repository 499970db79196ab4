"""URLs of the Settings tab (mounted at /settings/)."""

from django.urls import path

from schoolsms.accounts import invitations, views

app_name = "accounts"

urlpatterns = [
    path("", views.organization_settings, name="organization"),
    path("users/", views.users, name="users"),
    path("users/role/", views.user_role, name="user-role"),
    path("users/remove/", views.user_remove, name="user-remove"),
    path(
        "users/invitations/<int:pk>/withdraw/",
        views.invitation_withdraw,
        name="invitation-withdraw",
    ),
    path("invitations/", invitations.invitations, name="invitations"),
    path("invitations/<int:pk>/", invitations.invitation_answer, name="invitation-answer"),
    path(
        "password/set/<uidb64>/<token>/",
        invitations.PasswordSetView.as_view(),
        name="password-set",
    ),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token-revoke"),
]
