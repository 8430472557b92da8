"""The department exchange's tables (data.exchange), with the rows under the same row-level
security as the register's personal tables (registry migration 0002): a row is seen and written
only in a transaction whose ``plategrid.scope`` covers its community code. Rows without a place of
their own carry the uploader's territory code (a street office's or a district's), so they reach
that office's supervisors and no community worker."""

import uuid

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import data.models

TABLE = "data_exchangerow"
RLS = f"""
GRANT SELECT, INSERT, UPDATE, DELETE ON {TABLE}, data_exchangefile
    TO plategrid_operator, plategrid_admin;
GRANT USAGE, SELECT, UPDATE ON SEQUENCE {TABLE}_id_seq TO plategrid_operator, plategrid_admin;
ALTER TABLE {TABLE} ENABLE ROW LEVEL SECURITY;
ALTER TABLE {TABLE} FORCE ROW LEVEL SECURITY;
CREATE POLICY territory ON {TABLE}
    USING (plategrid_in_scope(community_code))
    WITH CHECK (plategrid_in_scope(community_code));
"""
UNDO_RLS = f"""
DROP POLICY IF EXISTS territory ON {TABLE};
ALTER TABLE {TABLE} NO FORCE ROW LEVEL SECURITY;
ALTER TABLE {TABLE} DISABLE ROW LEVEL SECURITY;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("data", "0001_initial"),
        ("geo", "0004_search_indexes"),
        ("registry", "0002_row_level_security"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ExchangeFile",
            fields=[
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("queued", "queued"),
                            ("running", "running"),
                            ("succeeded", "finished"),
                            ("failed", "failed"),
                        ],
                        default="queued",
                        max_length=20,
                        verbose_name="status",
                    ),
                ),
                ("progress_done", models.PositiveIntegerField(default=0)),
                ("progress_total", models.PositiveIntegerField(default=0)),
                ("error_zh", models.TextField(blank=True)),
                ("error_en", models.TextField(blank=True)),
                (
                    "created_at",
                    models.DateTimeField(auto_now_add=True, verbose_name="submitted at"),
                ),
                (
                    "started_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="started at"),
                ),
                (
                    "finished_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="finished at"),
                ),
                (
                    "id",
                    models.UUIDField(
                        default=uuid.uuid4, editable=False, primary_key=True, serialize=False
                    ),
                ),
                (
                    "file",
                    models.FileField(
                        blank=True,
                        max_length=300,
                        upload_to=data.models._exchange_upload_to,
                        verbose_name="file",
                    ),
                ),
                ("file_name", models.CharField(max_length=255, verbose_name="file name")),
                ("file_size", models.BigIntegerField(verbose_name="size (bytes)")),
                ("file_hash", models.CharField(db_index=True, max_length=64)),
                (
                    "community_code",
                    models.CharField(blank=True, max_length=12, verbose_name="territory code"),
                ),
                ("rows_read", models.PositiveIntegerField(default=0, verbose_name="read")),
                (
                    "purged_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="file removed at"),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="exchange_files",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="submitted by",
                    ),
                ),
            ],
            options={
                "verbose_name": "exchange file",
                "verbose_name_plural": "exchange files",
                "ordering": ["-created_at"],
            },
        ),
        migrations.CreateModel(
            name="ExchangeRow",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("row", models.PositiveIntegerField(verbose_name="row")),
                (
                    "community_code",
                    models.CharField(db_index=True, max_length=12, verbose_name="community code"),
                ),
                (
                    "event",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("marriage", "marriage"),
                            ("birth", "birth"),
                            ("move_in", "household registration moved in"),
                            ("move_out", "household registration moved out"),
                        ],
                        max_length=10,
                        verbose_name="event",
                    ),
                ),
                (
                    "outcome",
                    models.CharField(
                        choices=[
                            ("matched", "matched"),
                            ("probable", "probable match"),
                            ("updated", "updated"),
                            ("new", "new"),
                            ("conflict", "conflict"),
                            ("unmatched", "unmatched"),
                            ("invalid", "invalid"),
                        ],
                        max_length=10,
                        verbose_name="outcome",
                    ),
                ),
                ("reason_code", models.CharField(blank=True, max_length=50)),
                ("reason_zh", models.TextField(blank=True)),
                ("reason_en", models.TextField(blank=True)),
                ("name", models.CharField(blank=True, max_length=50, verbose_name="name")),
                ("sex", models.CharField(blank=True, max_length=1, verbose_name="sex")),
                ("birth_date", models.DateField(blank=True, null=True, verbose_name="birth date")),
                ("id_number", models.TextField(blank=True, editable=False)),
                (
                    "id_number_hash",
                    models.CharField(blank=True, db_index=True, editable=False, max_length=64),
                ),
                (
                    "id_number_masked",
                    models.CharField(blank=True, max_length=18, verbose_name="identity number"),
                ),
                ("address", models.CharField(blank=True, max_length=300, verbose_name="address")),
                ("event_date", models.DateField(blank=True, null=True, verbose_name="event date")),
                ("note", models.CharField(blank=True, max_length=200, verbose_name="note")),
                (
                    "other_name",
                    models.CharField(blank=True, max_length=50, verbose_name="spouse or parent"),
                ),
                ("other_id_number", models.TextField(blank=True, editable=False)),
                (
                    "other_id_number_hash",
                    models.CharField(blank=True, editable=False, max_length=64),
                ),
                ("other_id_number_masked", models.CharField(blank=True, max_length=18)),
                ("score", models.FloatField(blank=True, null=True, verbose_name="score")),
                ("candidates", models.JSONField(blank=True, default=list)),
                ("proposed", models.JSONField(blank=True, default=dict)),
                (
                    "decision",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("accepted", "accepted"),
                            ("registered", "registered as new"),
                            ("picked", "candidate picked"),
                            ("rejected", "rejected"),
                        ],
                        max_length=10,
                        verbose_name="decision",
                    ),
                ),
                (
                    "decision_note",
                    models.CharField(blank=True, max_length=200, verbose_name="note"),
                ),
                (
                    "decided_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="decided at"),
                ),
                (
                    "decided_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "file",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="rows",
                        to="data.exchangefile",
                    ),
                ),
                (
                    "resident",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="registry.resident",
                    ),
                ),
                (
                    "room",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="geo.room",
                    ),
                ),
            ],
            options={
                "verbose_name": "exchange row",
                "verbose_name_plural": "exchange rows",
                "ordering": ["file", "row"],
                "indexes": [models.Index(fields=["file", "outcome"], name="exchange_row_outcome")],
                "constraints": [
                    models.UniqueConstraint(fields=("file", "row"), name="exchange_row_once"),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("decision", ""), ("decided_at__isnull", False), _connector="OR"
                        ),
                        name="exchange_row_decided_when",
                    ),
                ],
            },
        ),
        migrations.RunSQL(RLS, UNDO_RLS),
    ]
