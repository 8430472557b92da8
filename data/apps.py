from django.apps import AppConfig


class DataConfig(AppConfig):
    name = "data"

    def ready(self) -> None:
        # The department exchange registers its retention purger (uploaded files, old rows)
        # with registry.retention when imported.
        from . import exchange  # noqa: F401
