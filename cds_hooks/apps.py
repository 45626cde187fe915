import logging

from django.apps import AppConfig
from django.conf import settings


class CdsHooksConfig(AppConfig):
    name = "cds_hooks"
    verbose_name = "CDS Hooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        if settings.CDS_HOOKS_ALLOW_UNSIGNED:
            logging.getLogger("cds_hooks").warning(
                "CDS_HOOKS_ALLOW_UNSIGNED=1: CDS Hooks calls without a JWT are accepted. For local"
                " development only; an invalid token is still refused."
            )
