"""The firmware pages: campaigns with each wave's progress, a campaign's chargers and their
timelines with the operator's actions, images and their upload, the chargers not on their
model's latest image, and a charger's diagnostics. Roles come from `chargers.firmware.access`."""

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from chargers.firmware import access
from chargers.firmware.forms import CampaignActionForm, CampaignForm, ImageForm
from chargers.firmware.models import (
    Campaign,
    CampaignState,
    CampaignTarget,
    DiagnosticsRequest,
    FirmwareImage,
    TargetEvent,
    TargetState,
)
from chargers.firmware.selectors import campaign_progress, not_on_latest
from chargers.firmware.services import campaigns as campaign_services
from chargers.firmware.services import diagnostics as diagnostics_services
from chargers.firmware.services import images as image_services
from chargers.models import Charger
from cpms.forms import save_with
from cpms.paging import pager_params
from cpms.tenancy.access import operator_view, role_at_least

ACTIONS: dict[str, Callable[..., Campaign]] = {
    "start": campaign_services.campaign_start,
    "pause": campaign_services.campaign_pause,
    "resume": campaign_services.campaign_resume,
    "cancel": campaign_services.campaign_cancel,
}
DONE = {
    "start": _("Campaign started."),
    "pause": _("Campaign paused."),
    "resume": _("Campaign resumed."),
    "cancel": _("Campaign cancelled."),
}
# Which actions a campaign in each state offers.
OFFERED = {
    CampaignState.DRAFT: ("start", "cancel"),
    CampaignState.RUNNING: ("pause", "cancel"),
    CampaignState.PAUSED: ("resume", "cancel"),
}


@operator_view(read=access.READ, write=access.MANAGE_CAMPAIGNS)
def campaign_list(request):
    campaigns = Campaign.objects.select_related("image")
    state = request.GET.get("state", "")
    if state in CampaignState.values:
        campaigns = campaigns.filter(state=state)
    page = Paginator(campaigns, 25).get_page(request.GET.get("page"))
    rows = [(campaign, campaign_progress(campaign)) for campaign in page]
    return render(
        request,
        "firmware/campaign_list.html",
        {
            "page": page,
            "rows": rows,
            "params": pager_params(request.GET),
            "state": state,
            "states": CampaignState.choices,
            "can_manage": role_at_least(request, access.MANAGE_CAMPAIGNS),
        },
    )


@operator_view(read=access.MANAGE_CAMPAIGNS, write=access.MANAGE_CAMPAIGNS)
def campaign_create(request):
    form = CampaignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        campaign = save_with(
            form, campaign_services.campaign_create, created_by=request.user, **form.values()
        )
        if campaign is not None:
            messages.success(
                request, gettext("Campaign saved as a draft: check it, then start it.")
            )
            return redirect(
                "firmware_campaign_detail", tenant_slug=request.tenant.slug, pk=campaign.pk
            )
    return render(request, "firmware/campaign_form.html", {"form": form})


@operator_view(read=access.READ, write=access.MANAGE_CAMPAIGNS)
def campaign_detail(request, pk: int):
    campaign = get_object_or_404(
        Campaign.objects.select_related("image").prefetch_related("sites"), pk=pk
    )
    targets = CampaignTarget.objects.filter(campaign=campaign).select_related("charger", "wave")
    state = request.GET.get("state", "")
    if state in TargetState.values:
        targets = targets.filter(state=state)
    page = Paginator(targets.order_by("wave__number", "id"), 50).get_page(request.GET.get("page"))
    matching = None
    if campaign.state == CampaignState.DRAFT:
        matching = campaign_services.matching_chargers(campaign).count()
    return render(
        request,
        "firmware/campaign_detail.html",
        {
            "campaign": campaign,
            "progress": campaign_progress(campaign),
            "page": page,
            "params": pager_params(request.GET),
            "state": state,
            "states": TargetState.choices,
            "matching": matching,
            "actions": OFFERED.get(CampaignState(campaign.state), ()),
            "can_manage": role_at_least(request, access.MANAGE_CAMPAIGNS),
        },
    )


@operator_view(read=access.MANAGE_CAMPAIGNS, write=access.MANAGE_CAMPAIGNS)
@require_POST
def campaign_action(request, pk: int):
    campaign = get_object_or_404(Campaign, pk=pk)
    form = CampaignActionForm(request.POST)
    if not form.is_valid():
        messages.error(request, gettext("Choose start, pause, resume or cancel."))
    else:
        action = form.cleaned_data["action"]
        try:
            ACTIONS[action](campaign=campaign)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, DONE[action])
    return redirect("firmware_campaign_detail", tenant_slug=request.tenant.slug, pk=pk)


@operator_view(read=access.READ, write=access.MANAGE_CAMPAIGNS)
def target_detail(request, pk: int):
    target = get_object_or_404(
        CampaignTarget.objects.select_related(
            "campaign__image", "charger", "wave"
        ).prefetch_related(Prefetch("events", queryset=TargetEvent.objects.order_by("at", "id"))),
        pk=pk,
    )
    return render(request, "firmware/target_detail.html", {"target": target})


@operator_view(read=access.READ, write=access.MANAGE_IMAGES)
def image_list(request):
    page = Paginator(FirmwareImage.objects.all(), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "firmware/image_list.html",
        {
            "page": page,
            "params": pager_params(request.GET),
            "can_manage": role_at_least(request, access.MANAGE_IMAGES),
        },
    )


@operator_view(read=access.MANAGE_IMAGES, write=access.MANAGE_IMAGES)
def image_create(request):
    form = ImageForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        image = save_with(
            form, image_services.image_create, uploaded_by=request.user, **form.cleaned_data
        )
        if image is not None:
            messages.success(request, gettext("%(image)s saved.") % {"image": image})
            return redirect("firmware_image_list", tenant_slug=request.tenant.slug)
    # The vendor and model must be spelt as the chargers report them: show the fleet's.
    fleet = (
        Charger.objects.exclude(vendor="")
        .values_list("vendor", "model")
        .annotate(n=Count("id"))
        .order_by("vendor", "model")
    )
    return render(request, "firmware/image_form.html", {"form": form, "fleet_models": fleet})


@operator_view(read=access.READ)
def outdated(request):
    return render(request, "firmware/outdated.html", {"models": not_on_latest()})


@operator_view(read=access.READ, write=access.REQUEST_DIAGNOSTICS)
def charger_diagnostics(request, pk: int):
    charger = get_object_or_404(Charger, pk=pk)
    if request.method == "POST":
        diagnostics_services.diagnostics_request(charger=charger, requested_by=request.user)
        messages.success(
            request, gettext("Diagnostics requested; the file appears here once uploaded.")
        )
        return redirect("charger_diagnostics", tenant_slug=request.tenant.slug, pk=pk)
    requests = DiagnosticsRequest.objects.filter(charger=charger).select_related("requested_by")
    page = Paginator(requests, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "firmware/charger_diagnostics.html",
        {
            "charger": charger,
            "page": page,
            "params": pager_params(request.GET),
            "can_request": role_at_least(request, access.REQUEST_DIAGNOSTICS),
        },
    )


@operator_view(read=access.READ)
def diagnostics_file(request, pk: int):
    diagnostics = get_object_or_404(DiagnosticsRequest, pk=pk)
    if not diagnostics.file:
        raise Http404
    return FileResponse(
        diagnostics.file.open("rb"),
        as_attachment=True,
        filename=diagnostics.file_name or "diagnostics.log",
        content_type="application/octet-stream",
    )
