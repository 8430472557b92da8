"""Row-level security on the personal tables, the database roles, the append-only access log.

- ``plategrid_in_scope(code)``: whether a community code lies in the transaction's scope, the
  setting ``plategrid.scope`` (comma-separated code prefixes, or ``*``), set per transaction by
  ``registry.privacy.personal``. Unset means nothing.
- Every personal table and its history (pghistory events) has row-level security forced, with one
  policy for every role: rows of the scope only, for reading and for writing. Superusers bypass
  it, which is why the application switches to ``plategrid_operator`` per transaction.
- Roles (cluster-wide, NOLOGIN; the login role is made a member):
  ``plategrid_operator`` — the application: reads and writes every table, but only INSERTs into
  the access log; ``plategrid_auditor`` — reads the access log; ``plategrid_admin`` — bypasses
  row-level security, for the retention job and key rotation.
- The access log refuses UPDATE and DELETE by trigger, whoever asks.
"""

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

ROLES = {
    "plategrid_operator": "NOLOGIN",
    "plategrid_auditor": "NOLOGIN",
    "plategrid_admin": "NOLOGIN BYPASSRLS",
}

FUNCTION = """
CREATE OR REPLACE FUNCTION plategrid_in_scope(code text) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(current_setting('plategrid.scope', true), '') = '*'
        OR EXISTS (
            SELECT 1
            FROM unnest(string_to_array(current_setting('plategrid.scope', true), ',')) AS p
            WHERE p <> '' AND starts_with(code, p)
        )
$$;
"""


def _create_roles() -> str:
    statements = []
    for role, options in ROLES.items():
        statements.append(
            f"""
DO $$ BEGIN
    CREATE ROLE {role} {options};
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
DO $$ BEGIN
    EXECUTE format('GRANT {role} TO %I', current_user);
EXCEPTION WHEN invalid_grant_operation OR duplicate_object THEN NULL;
END $$;"""
        )
    return "\n".join(statements)


GRANTS = """
GRANT USAGE ON SCHEMA public TO plategrid_operator, plategrid_auditor, plategrid_admin;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public
    TO plategrid_operator, plategrid_admin;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public
    TO plategrid_operator, plategrid_admin;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO plategrid_operator, plategrid_admin;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO plategrid_operator, plategrid_admin;
REVOKE UPDATE, DELETE, TRUNCATE ON registry_accesslog FROM plategrid_operator, plategrid_admin;
GRANT SELECT ON registry_accesslog, auth_user TO plategrid_auditor;
"""

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION registry_access_log_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the access log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE ON registry_accesslog
    FOR EACH ROW EXECUTE FUNCTION registry_access_log_append_only();
"""


def _policies() -> str:
    statements = []
    for table in PERSONAL_TABLES + HISTORY_TABLES:
        statements.append(
            f"""
ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
ALTER TABLE {table} FORCE ROW LEVEL SECURITY;
CREATE POLICY territory ON {table}
    USING (plategrid_in_scope(community_code))
    WITH CHECK (plategrid_in_scope(community_code));"""
        )
    return "\n".join(statements)


def _undo_policies() -> str:
    return "\n".join(
        f"DROP POLICY IF EXISTS territory ON {t}; ALTER TABLE {t} DISABLE ROW LEVEL SECURITY;"
        f" ALTER TABLE {t} NO FORCE ROW LEVEL SECURITY;"
        for t in PERSONAL_TABLES + HISTORY_TABLES
    )


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_people")]

    operations = [
        migrations.RunSQL(_create_roles(), migrations.RunSQL.noop),
        migrations.RunSQL(FUNCTION, "DROP FUNCTION IF EXISTS plategrid_in_scope(text);"),
        migrations.RunSQL(GRANTS, migrations.RunSQL.noop),
        migrations.RunSQL(
            APPEND_ONLY,
            "DROP TRIGGER IF EXISTS access_log_append_only ON registry_accesslog;"
            " DROP FUNCTION IF EXISTS registry_access_log_append_only();",
        ),
        migrations.RunSQL(_policies(), _undo_policies()),
    ]
