from django.apps import AppConfig


class IndicationsConfig(AppConfig):
    name = "indications"
    verbose_name = "Memantine catalogue"

    def ready(self):
        from . import signals
        from .models import EDITORIAL_MODELS

        signals.connect(EDITORIAL_MODELS)
