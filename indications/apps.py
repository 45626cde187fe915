from django.apps import AppConfig


class IndicationsConfig(AppConfig):
    name = "indications"
    verbose_name = "Memantine catalogue"
