from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = _("people register")

    def ready(self) -> None:
        from . import checks  # noqa: F401 (registers the deploy checks)
        from .privacy import connect_guard

        connect_guard()
