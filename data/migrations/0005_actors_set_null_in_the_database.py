"""Who decided an exchange row is set to NULL by the database when the user is deleted (as the
register's actors, registry/0005)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

SET_NULL = """
ALTER TABLE data_exchangerow ADD CONSTRAINT data_exchangerow_decided_by_id_set_null FOREIGN KEY (decided_by_id) REFERENCES auth_user (id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED;
"""
UNDO = """
ALTER TABLE data_exchangerow DROP CONSTRAINT IF EXISTS data_exchangerow_decided_by_id_set_null;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("data", "0004_exchange_policy_once_per_query"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="exchangerow",
            name="decided_by",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.RunSQL(SET_NULL, UNDO),
    ]
