from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "schoolsms.accounts"
    label = "accounts"
