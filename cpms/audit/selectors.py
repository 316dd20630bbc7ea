"""Reads of the audit log for its page, export and API."""

from __future__ import annotations

from django.db.models import QuerySet

from cpms.audit.models import AuditEntry


def audit_entries() -> QuerySet[AuditEntry]:
    """The scope's entries, newest first."""
    return AuditEntry.objects.order_by("-at", "-id")
