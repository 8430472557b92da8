"""Import jobs in the admin: read-only (jobs are made by uploads and the CLI, never edited)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import ImportIssue, ImportJob


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class IssueInline(admin.TabularInline):
    model = ImportIssue
    fields = ["row", "source_id", "severity", "code", "field", "message_zh", "message_en"]
    readonly_fields = ("row", "source_id", "severity", "code", "field", "message_zh", "message_en")
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnly):
    list_display = [
        "created_at",
        "file_name",
        "kind",
        "status",
        "created_by",
        "rows_read",
        "rows_created",
        "rows_updated",
        "rows_unchanged",
        "rows_rejected",
    ]
    list_filter = ["status", "kind"]
    search_fields = ["file_name", "file_sha256", "created_by__username"]
    date_hierarchy = "created_at"
    inlines = [IssueInline]
