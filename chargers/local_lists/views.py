"""The local list pages: the policy (the tenant's and its overrides) with the fleet's sync,
and a charger's list with "sync now". Roles come from `chargers.local_lists.access`."""

from django.contrib import messages
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_POST

from chargers.local_lists import access, selectors
from chargers.local_lists.forms import PolicyForm, SyncForm
from chargers.local_lists.models import ChargerLocalList, LocalListPolicy
from chargers.local_lists.services import policies
from chargers.local_lists.tasks import sync_charger, sync_chargers
from chargers.models import Charger
from cpms.forms import save_with
from cpms.tenancy.access import operator_view, role_at_least


@operator_view(read=access.READ, write=access.MANAGE_POLICY)
def settings_page(request):
    tenant = request.tenant
    if request.method == "POST" and request.POST.get("action") == "delete":
        policy = get_object_or_404(LocalListPolicy, pk=request.POST.get("policy"))
        policies.local_list_policy_delete(policy=policy)
        messages.success(
            request, gettext("Override for %(scope)s removed.") % {"scope": policy.scope_label}
        )
        return redirect("local_list_settings", tenant_slug=tenant.slug)
    form = PolicyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        saved = save_with(form, policies.local_list_policy_set, **form.cleaned_data)
        if saved is not None:
            messages.success(
                request,
                gettext("Saved: %(policy)s. Chargers get their lists at the next sync.")
                % {"policy": saved},
            )
            return redirect("local_list_settings", tenant_slug=tenant.slug)
    rows = LocalListPolicy.objects.select_related("site", "charger").prefetch_related("groups")
    return render(
        request,
        "local_lists/settings.html",
        {
            "form": form,
            "policies": rows,
            "sync_form": SyncForm(),
            "due": Charger.objects.filter(pk__in=selectors.chargers_due()).order_by("identity"),
            "failed": ChargerLocalList.objects.filter(last_outcome="failed").count(),
            "can_manage": role_at_least(request, access.MANAGE_POLICY),
            "can_sync": role_at_least(request, access.SYNC),
        },
    )


@operator_view(read=access.SYNC, write=access.SYNC)
@require_POST
def sync_fleet(request):
    form = SyncForm(request.POST)
    if not form.is_valid():
        messages.error(request, gettext("Choose one of the sites, or none."))
        return redirect("local_list_settings", tenant_slug=request.tenant.slug)
    chargers = Charger.objects.filter(is_online=True)
    if form.cleaned_data["site"] is not None:
        chargers = chargers.filter(site=form.cleaned_data["site"])
    ids = list(chargers.values_list("pk", flat=True))
    if ids:
        tenant_id, user_id = request.tenant.pk, request.user.pk
        transaction.on_commit(
            lambda: sync_chargers.delay(tenant_id=tenant_id, charger_ids=ids, user_id=user_id)
        )
    messages.success(
        request,
        ngettext(
            "Syncing the list of %(count)d connected charger.",
            "Syncing the lists of %(count)d connected chargers.",
            len(ids),
        )
        % {"count": len(ids)},
    )
    return redirect("local_list_settings", tenant_slug=request.tenant.slug)


@operator_view(read=access.READ, write=access.SYNC)
def charger_local_list(request, pk: int):
    charger = get_object_or_404(Charger, pk=pk)
    if request.method == "POST":
        tenant_id, user_id = request.tenant.pk, request.user.pk
        transaction.on_commit(
            lambda: sync_charger.delay(
                tenant_id=tenant_id, charger_id=charger.pk, user_id=user_id, refresh=True
            )
        )
        messages.success(
            request, gettext("Sync started; the list below follows the charger's answers.")
        )
        return redirect("charger_local_list", tenant_slug=request.tenant.slug, pk=pk)
    listed = selectors.list_state(charger)
    return render(
        request,
        "local_lists/charger_local_list.html",
        {
            "charger": charger,
            "listed": listed,
            "entries": selectors.shown_entries(listed.state),
            "can_sync": role_at_least(request, access.SYNC),
        },
    )
