from django.apps import AppConfig


class IndexationConfig(AppConfig):
    name = "indexation"
    verbose_name = "CPI indexation"
