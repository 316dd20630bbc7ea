"""The reservation pages: the list (filters: charger, status, active), the reserve form of a
charger, and cancelling. Roles come from `chargers.reservations.access`."""

import zoneinfo

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from chargers.models import Charger
from chargers.reservations import access, selectors, services
from chargers.reservations.forms import ReservationForm
from chargers.reservations.models import Reservation, ReservationStatus
from cpms.forms import save_with
from cpms.paging import pager_params
from cpms.tenancy.access import operator_view, role_at_least


@operator_view(read=access.READ)
def reservation_list(request):
    rows = selectors.reservations()
    charger = request.GET.get("charger", "")
    if charger.isdigit():
        rows = rows.filter(charger_id=int(charger))
    status = request.GET.get("status", "")
    if status in ReservationStatus.values:
        rows = rows.filter(status=status)
    active = request.GET.get("active", "")
    if active == "yes":
        rows = selectors.active(rows)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "reservations/reservation_list.html",
        {
            "page": page,
            "params": pager_params(request.GET),
            "charger": charger,
            "chargers": Charger.objects.values_list("pk", "identity"),
            "status": status,
            "statuses": ReservationStatus.choices,
            "active": active,
            "can_manage": role_at_least(request, access.MANAGE_RESERVATIONS),
            "tz": _tz(request),
        },
    )


@operator_view(read=access.MANAGE_RESERVATIONS, write=access.MANAGE_RESERVATIONS)
def reservation_create(request, pk: int):
    charger = get_object_or_404(Charger.objects.select_related("site"), pk=pk)
    form = ReservationForm(request.POST or None, charger=charger)
    # The operator gives the end in the charger's local time.
    tz = _tz(request, charger)
    with timezone.override(tz):
        valid = request.method == "POST" and form.is_valid()
    if valid:
        reservation = save_with(
            form,
            services.reservation_create,
            charger=charger,
            evse_id=form.cleaned_data["evse_id"],
            id_tag=form.cleaned_data["id_token"],
            expires_at=form.cleaned_data["expires_at"],
            created_by=request.user,
        )
        if reservation is not None:
            messages.info(
                request,
                gettext(
                    "Reservation of %(connector)s sent; the charger's answer shows here as it "
                    "arrives."
                )
                % {"connector": reservation.connector_label},
            )
            return redirect("charger_detail", tenant_slug=request.tenant.slug, pk=charger.pk)
    return render(
        request,
        "reservations/reservation_form.html",
        {"form": form, "charger": charger, "tz": tz},
    )


def _tz(request, charger: Charger | None = None) -> zoneinfo.ZoneInfo:
    site = charger.site if charger is not None else None
    return zoneinfo.ZoneInfo((site.timezone if site else None) or request.tenant.timezone)


@operator_view(read=access.MANAGE_RESERVATIONS, write=access.MANAGE_RESERVATIONS)
@require_POST
def reservation_cancel(request, pk: int):
    reservation = get_object_or_404(Reservation, pk=pk)
    try:
        services.reservation_cancel(reservation=reservation, cancelled_by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.info(
            request, gettext("Cancellation sent; the charger's answer closes the reservation.")
        )
    back = request.POST.get("next", "")
    if back == "charger":
        return redirect(
            "charger_detail", tenant_slug=request.tenant.slug, pk=reservation.charger_id
        )
    return redirect("reservation_list", tenant_slug=request.tenant.slug)
