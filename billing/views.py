"""The dashboard's tariff pages: the list, a tariff with its versions, assignments and a price
preview, the editor, and the records' CSV download. Roles from `billing.access`. Invoices and
statements are in `billing.invoice_views`."""

from __future__ import annotations

import zoneinfo

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from billing import access, selectors, services
from billing.exports import cdrs_csv
from billing.forms import AssignmentForm, PreviewForm, TariffForm
from billing.models import ChargeDetailRecord, Tariff, TariffAssignment, TariffVersion
from cpms.forms import save_with
from cpms.tenancy.access import operator_view, role_at_least


def _tariffs():
    return selectors.live_tariffs().prefetch_related(
        Prefetch("versions", queryset=TariffVersion.objects.all())
    )


@operator_view(read=access.READ)
def tariff_list(request):
    tariffs = _tariffs().prefetch_related("assignments")
    return render(request, "billing/tariff_list.html", {"tariffs": tariffs})


@operator_view(read=access.PREVIEW_PRICES, write=access.PREVIEW_PRICES)
def tariff_detail(request, pk: int):
    tariff = get_object_or_404(_tariffs(), pk=pk)
    assignments = TariffAssignment.objects.filter(tariff=tariff).select_related(
        "site", "charger", "connector__charger", "group"
    )
    preview, priced, version = _preview(request, tariff)
    return render(
        request,
        "billing/tariff_detail.html",
        {
            "tariff": tariff,
            "current": tariff.current,
            "versions": sorted(tariff.versions.all(), key=lambda v: -v.number),
            "assignments": assignments,
            "assignment_form": AssignmentForm(),
            "preview": preview,
            "priced": priced,
            "priced_version": version,
            "can_manage": _can_manage(request),
        },
    )


def _can_manage(request) -> bool:
    return role_at_least(request, access.MANAGE_TARIFFS)


def _preview(request, tariff: Tariff):
    """The preview form (GET) and, when it is filled in, the price it asks for."""
    now = timezone.localtime(timezone.now(), zoneinfo.ZoneInfo(request.tenant.timezone))
    initial = {"start": now.replace(hour=17, minute=40, second=0, microsecond=0), "hours": 2}
    form = PreviewForm(request.GET if "start" in request.GET else None, initial=initial)
    if not form.is_bound or not form.is_valid():
        return form, None, None
    site = form.cleaned_data.get("site")
    tz = zoneinfo.ZoneInfo(site.timezone if site else request.tenant.timezone)
    session = form.session(tz)
    version, priced = selectors.preview(tariff, session, tz)
    return form, {"priced": priced, "session": session, "tz": tz}, version


@operator_view(read=access.MANAGE_TARIFFS, write=access.MANAGE_TARIFFS)
def tariff_edit(request, pk: int | None = None):
    tariff = get_object_or_404(_tariffs(), pk=pk) if pk else None
    form = TariffForm(request.POST or None, tariff=tariff)
    if request.method == "POST" and form.is_valid():
        try:
            if tariff is None:
                tariff = services.tariff_create(user=request.user, **form.values())
                messages.success(
                    request, gettext("Tariff “%(name)s” created.") % {"name": tariff.name}
                )
            else:
                tariff, version = services.tariff_update(
                    tariff=tariff, user=request.user, **form.values()
                )
                messages.success(
                    request,
                    gettext("Tariff “%(name)s” saved as version %(number)s.")
                    % {"name": tariff.name, "number": version.number}
                    if version
                    else gettext("Tariff “%(name)s” saved.") % {"name": tariff.name},
                )
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            return redirect("tariff_detail", tenant_slug=request.tenant.slug, pk=tariff.pk)
    return render(request, "billing/tariff_form.html", {"form": form, "tariff": tariff})


@operator_view(read=access.MANAGE_TARIFFS, write=access.MANAGE_TARIFFS)
@require_POST
def tariff_delete(request, pk: int):
    tariff = get_object_or_404(selectors.live_tariffs(), pk=pk)
    services.tariff_delete(tariff=tariff)
    messages.success(
        request,
        gettext("Tariff “%(name)s” withdrawn; its records keep it.") % {"name": tariff.name},
    )
    return redirect("tariff_list", tenant_slug=request.tenant.slug)


@operator_view(read=access.MANAGE_TARIFFS, write=access.MANAGE_TARIFFS)
@require_POST
def tariff_assign(request, pk: int):
    tariff = get_object_or_404(selectors.live_tariffs(), pk=pk)
    form = AssignmentForm(request.POST)
    added = None
    if form.is_valid():
        added = save_with(form, services.assignment_create, tariff=tariff, **form.cleaned_data)
    if added is not None:
        messages.success(request, gettext("Assignment added."))
    else:
        problems = "; ".join(
            f"{field}: {' '.join(str(m) for m in errors)}" for field, errors in form.errors.items()
        )
        messages.error(request, gettext("Not assigned: %(problems)s") % {"problems": problems})
    return redirect("tariff_detail", tenant_slug=request.tenant.slug, pk=tariff.pk)


@operator_view(read=access.MANAGE_TARIFFS, write=access.MANAGE_TARIFFS)
@require_POST
def tariff_assignment_remove(request, pk: int):
    assignment = get_object_or_404(TariffAssignment, pk=pk)
    services.assignment_delete(assignment=assignment)
    messages.success(request, gettext("Assignment removed."))
    return redirect("tariff_detail", tenant_slug=request.tenant.slug, pk=assignment.tariff_id)


@operator_view(read=access.READ)
def cdr_export(request):
    """Every record, or one session's (`?session=`), as CSV in the tenant's time zone."""
    records = ChargeDetailRecord.objects.all()
    session = request.GET.get("session", "")
    if session.isdigit():
        records = records.filter(session_id=int(session))
    return cdrs_csv(
        records,
        tz=zoneinfo.ZoneInfo(request.tenant.timezone),
        tenant=request.tenant,
        filename="charge-detail-records.csv",
    )
