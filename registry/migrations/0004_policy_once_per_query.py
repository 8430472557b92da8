"""Row-level security's condition read once per query (``registry.privacy.POLICY``), not a
function per row: the same rows (codes nest by prefix, scopes are 6, 9 or 12 digits), but the
scope becomes an InitPlan and the code's index serves the policy."""

from django.db import migrations

from registry.privacy import HISTORY_TABLES, PERSONAL_TABLES, POLICY

BY_FUNCTION = "plategrid_in_scope(community_code)"


def _alter(condition: str) -> str:
    return "\n".join(
        f"ALTER POLICY territory ON {table} USING ({condition}) WITH CHECK ({condition});"
        for table in PERSONAL_TABLES + HISTORY_TABLES
    )


class Migration(migrations.Migration):
    dependencies = [("registry", "0003_seed")]

    operations = [migrations.RunSQL(_alter(POLICY), _alter(BY_FUNCTION))]
