"""Who acted on a personal row is set to NULL by the database when the user is deleted (not by
Django's collector, which would read the personal tables outside a user context)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

SET_NULL = """
ALTER TABLE registry_followup ADD CONSTRAINT registry_followup_recorded_by_id_set_null FOREIGN KEY (recorded_by_id) REFERENCES auth_user (id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE registry_supplydistribution ADD CONSTRAINT registry_supplydistribution_given_by_id_set_null FOREIGN KEY (given_by_id) REFERENCES auth_user (id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE registry_starrating ADD CONSTRAINT registry_starrating_rated_by_id_set_null FOREIGN KEY (rated_by_id) REFERENCES auth_user (id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED;
"""
UNDO = """
ALTER TABLE registry_followup DROP CONSTRAINT IF EXISTS registry_followup_recorded_by_id_set_null;
ALTER TABLE registry_supplydistribution DROP CONSTRAINT IF EXISTS registry_supplydistribution_given_by_id_set_null;
ALTER TABLE registry_starrating DROP CONSTRAINT IF EXISTS registry_starrating_rated_by_id_set_null;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0004_policy_once_per_query"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="followup",
            name="recorded_by",
            field=models.ForeignKey(
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="starrating",
            name="rated_by",
            field=models.ForeignKey(
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="supplydistribution",
            name="given_by",
            field=models.ForeignKey(
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.RunSQL(SET_NULL, UNDO),
    ]
