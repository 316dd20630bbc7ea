"""The audit log's pages, for the tenant's admins: the list with its filters and CSV export,
and one entry with its changes."""

from __future__ import annotations

import zoneinfo
from typing import cast

from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, render

from cpms.audit.exports import audit_csv
from cpms.audit.filters import AuditEntryFilter
from cpms.audit.selectors import audit_entries
from cpms.exports import export_filename
from cpms.models import Role, Tenant
from cpms.paging import pager_params
from cpms.tenancy.access import operator_view
from cpms.tenancy.doors import TenantRequest

# Admins only, like members and API keys: the log names people, addresses and settings.
READ_AUDIT_LOG = Role.ADMIN


@operator_view(read=READ_AUDIT_LOG, write=READ_AUDIT_LOG)
def audit_list(request: TenantRequest) -> HttpResponse:
    found = AuditEntryFilter(request.GET, queryset=audit_entries())
    entries = found.qs if found.is_valid() else audit_entries().none()
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "audit/audit_list.html",
        {"page": page, "filter": found, "params": pager_params(request.GET), "here": "audit"},
    )


@operator_view(read=READ_AUDIT_LOG, write=READ_AUDIT_LOG)
def audit_export(request: TenantRequest) -> HttpResponse:
    """The entries the list shows, as its filters ask, as CSV; a filter value it cannot apply
    is a 400 naming the filter rather than a silently wider file."""
    tenant = cast(Tenant, request.tenant)  # a page under /t/<tenant>/ has one
    found = AuditEntryFilter(request.GET, queryset=audit_entries())
    if not found.is_valid():
        problems = "; ".join(f"{name}: {' '.join(e)}" for name, e in found.errors.items())
        return HttpResponseBadRequest(problems, content_type="text/plain; charset=utf-8")
    return audit_csv(  # type: ignore[return-value]
        found.qs,
        tz=zoneinfo.ZoneInfo(tenant.timezone),
        tenant=tenant,
        filename=export_filename("audit-log", tenant),
    )


@operator_view(read=READ_AUDIT_LOG, write=READ_AUDIT_LOG)
def audit_detail(request: TenantRequest, pk: int) -> HttpResponse:
    entry = get_object_or_404(audit_entries(), pk=pk)
    return render(request, "audit/audit_detail.html", {"entry": entry, "here": "audit"})
