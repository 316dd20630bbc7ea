"""The tenant's settings for its chargers: heartbeats, offline detection, OCPP version changes,
and onboarding of unknown chargers (its password shown once)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from chargers.access import MANAGE_CHARGERS
from chargers.dashboard.forms import FleetSettingsForm, OnboardingForm
from chargers.services import fleet_settings
from cpms import once
from cpms.forms import save_with
from cpms.tenancy.access import operator_view

SHOWN_ONCE_SLOT = "onboarding-password"


@never_cache
@operator_view(read=MANAGE_CHARGERS, write=MANAGE_CHARGERS)
def fleet_settings_page(request):
    tenant = request.tenant
    form = FleetSettingsForm(
        initial={
            "heartbeat_interval": tenant.heartbeat_interval,
            "offline_after_heartbeats": tenant.offline_after_heartbeats,
            "version_change": fleet_settings.version_change_policy(tenant),
            "close_sessions_after_hours": fleet_settings.stale_session_hours(tenant),
        }
    )
    onboarding_form = OnboardingForm()
    action = request.POST.get("action") if request.method == "POST" else None
    if action == "settings":
        form = FleetSettingsForm(request.POST)
        if form.is_valid():
            saved = save_with(
                form, fleet_settings.fleet_settings_update, tenant=tenant, **form.cleaned_data
            )
            if saved is not None:
                messages.success(request, _("Saved; each charger gets it at its next boot."))
                return redirect("fleet_settings", tenant_slug=tenant.slug)
    elif action == "open":
        onboarding_form = OnboardingForm(request.POST)
        if onboarding_form.is_valid():
            password = save_with(
                onboarding_form,
                fleet_settings.onboarding_open,
                tenant=tenant,
                password=onboarding_form.cleaned_data["password"] or None,
            )
            if password is not None:
                # Shown once after the redirect: a reload does not rotate it again.
                once.keep_for_one_display(request, SHOWN_ONCE_SLOT, {"password": password})
                return redirect("fleet_settings", tenant_slug=tenant.slug)
    elif action == "close":
        fleet_settings.onboarding_close(tenant=tenant)
        messages.success(request, _("Unknown chargers are refused again."))
        return redirect("fleet_settings", tenant_slug=tenant.slug)
    elif action is not None:
        messages.error(request, _("Choose one of the page's actions."))
    shown = once.take(request, SHOWN_ONCE_SLOT) if request.method == "GET" else None
    return render(
        request,
        "chargers/fleet_settings.html",
        {
            "form": form,
            "onboarding_form": onboarding_form,
            "password": shown["password"] if shown else None,
        },
    )
