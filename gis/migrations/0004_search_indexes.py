"""Indexes for the map's search box (``gis.search``, ``DoorPlateQuerySet.matching``).

pg_trgm is already installed by 0001 (``TrigramExtension``, for ``door_plate_search_trgm``).
"""

import django.contrib.postgres.indexes
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("geo", "0003_gcj02_shift"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="building",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["name"], name="building_name_trgm", opclasses=["gin_trgm_ops"]
            ),
        ),
        migrations.AddIndex(
            model_name="doorplate",
            index=models.Index(fields=["number"], name="door_plate_number"),
        ),
        migrations.AddIndex(
            model_name="doorplate",
            index=models.Index(fields=["building_number"], name="door_plate_building_number"),
        ),
        migrations.AddIndex(
            model_name="doorplate",
            index=models.Index(fields=["room_number"], name="door_plate_room_number"),
        ),
        migrations.AddIndex(
            model_name="room",
            index=models.Index(fields=["number", "building"], name="room_number"),
        ),
    ]
