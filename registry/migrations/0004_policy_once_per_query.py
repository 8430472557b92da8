"""Row-level security's condition read once per query (``registry.privacy.POLICY``), not a
function per row: the same rows (codes nest by prefix, scopes are 6, 9 or 12 digits), but the
scope becomes an InitPlan and the code's index serves the policy."""

from django.db import migrations

# As at this migration (not imported from registry.privacy: later changes must not rewrite it).
PERSONAL_TABLES = (
    "registry_household",
    "registry_resident",
    "registry_occupancy",
    "registry_followup",
    "registry_supplydistribution",
    "registry_landlordcontract",
    "registry_tenancycontract",
    "registry_starrating",
    "registry_rectification",
    "registry_rentwithdrawal",
)
HISTORY_TABLES = tuple(f"{table}event" for table in PERSONAL_TABLES)
POLICY = """
    (SELECT coalesce(current_setting('plategrid.scope', true), '') = '*')
    OR community_code::text = ANY (ARRAY(SELECT unnest(string_to_array(current_setting('plategrid.scope', true), ','))))
    OR left(community_code::text, 9) = ANY (ARRAY(SELECT unnest(string_to_array(current_setting('plategrid.scope', true), ','))))
    OR left(community_code::text, 6) = ANY (ARRAY(SELECT unnest(string_to_array(current_setting('plategrid.scope', true), ','))))
"""

BY_FUNCTION = "plategrid_in_scope(community_code)"


def _alter(condition: str) -> str:
    return "\n".join(
        f"ALTER POLICY territory ON {table} USING ({condition}) WITH CHECK ({condition});"
        for table in PERSONAL_TABLES + HISTORY_TABLES
    )


class Migration(migrations.Migration):
    dependencies = [("registry", "0003_seed")]

    operations = [migrations.RunSQL(_alter(POLICY), _alter(BY_FUNCTION))]
