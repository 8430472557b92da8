from django.apps import AppConfig


class GridConfig(AppConfig):
    name = "grid"
    label = "grid"
    verbose_name = "Responsibility grids"

    def ready(self) -> None:
        # Undo and the admin save through the model's service (gis.history.SAVERS).
        from gis.history import SAVERS

        from . import services
        from .models import Assignment, Staff, Zone

        SAVERS.update(
            {
                Zone: services.save_zone,
                Staff: services.save_staff,
                Assignment: services.save_assignment,
            }
        )
