"""The exchange rows' row-level security reads the scope once per query, like the register's
(``registry.privacy.POLICY``, migration ``registry/0004``)."""

from django.db import migrations

# As at this migration (not imported from registry.privacy: later changes must not rewrite it).
POLICY = """
    (SELECT coalesce(current_setting('plategrid.scope', true), '') = '*')
    OR community_code::text = ANY (ARRAY(SELECT unnest(string_to_array(current_setting('plategrid.scope', true), ','))))
    OR left(community_code::text, 9) = ANY (ARRAY(SELECT unnest(string_to_array(current_setting('plategrid.scope', true), ','))))
    OR left(community_code::text, 6) = ANY (ARRAY(SELECT unnest(string_to_array(current_setting('plategrid.scope', true), ','))))
"""

BY_FUNCTION = "plategrid_in_scope(community_code)"


def _alter(condition: str) -> str:
    return (
        f"ALTER POLICY territory ON data_exchangerow USING ({condition}) WITH CHECK ({condition});"
    )


class Migration(migrations.Migration):
    dependencies = [("data", "0003_exchange_file_once"), ("registry", "0004_policy_once_per_query")]

    operations = [migrations.RunSQL(_alter(POLICY), _alter(BY_FUNCTION))]
