"""The exchange rows' row-level security reads the scope once per query, like the register's
(``registry.privacy.POLICY``, migration ``registry/0004``)."""

from django.db import migrations

from registry.privacy import POLICY

BY_FUNCTION = "plategrid_in_scope(community_code)"


def _alter(condition: str) -> str:
    return (
        f"ALTER POLICY territory ON data_exchangerow USING ({condition}) WITH CHECK ({condition});"
    )


class Migration(migrations.Migration):
    dependencies = [("data", "0003_exchange_file_once"), ("registry", "0004_policy_once_per_query")]

    operations = [migrations.RunSQL(_alter(POLICY), _alter(BY_FUNCTION))]
