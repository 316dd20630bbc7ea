"""The Plug & Charge pages: the provider settings (admins), issuing a test contract and
revoking one (operators). The overview's Plug & Charge section is rendered by the
certificates overview (`views.overview`)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from chargers.certificates import access, checks
from chargers.certificates.forms import ContractIssueForm, PncSettingsForm
from chargers.certificates.models import ContractCertificate
from chargers.certificates.services import contracts
from chargers.certificates.services import pnc_settings as settings_services
from cpms.forms import save_with
from cpms.tenancy.access import operator_view


@operator_view(read=access.MANAGE_AUTHORITY, write=access.MANAGE_AUTHORITY)
def pnc_settings_edit(request):
    current = settings_services.pnc_settings()
    form = PncSettingsForm(
        request.POST or None,
        initial={
            "provider": current.provider,
            "remote_url": current.remote_url,
            "remote_username": current.remote_username,
            "remote_timeout": current.remote_timeout,
            "ocsp_mode": current.ocsp_mode,
            "trusted_roots_pem": current.trusted_roots_pem,
            "token_group": current.token_group_id,
        },
    )
    if request.method == "POST" and form.is_valid():
        if save_with(form, settings_services.pnc_settings_set, **form.cleaned_data):
            messages.success(request, _("Plug & Charge settings saved."))
            return redirect("certificate_overview", tenant_slug=request.tenant.slug)
    return render(
        request,
        "certificates/pnc_settings_form.html",
        {
            "form": form,
            "secret_set": bool(current.remote_secret_sealed),
            "test_pki_in_production": checks.test_pki_in_production(),
        },
    )


@operator_view(read=access.OPERATE, write=access.OPERATE)
@require_POST
def contract_issue(request):
    form = ContractIssueForm(request.POST)
    issued = None
    if form.is_valid():
        issued = save_with(form, contracts.contract_issue, emaid=form.cleaned_data["emaid"])
    if issued is None:
        for errors in form.errors.values():
            messages.error(request, " ".join(map(str, errors)))
    else:
        messages.success(
            request,
            _("Contract certificate issued for %(emaid)s.") % {"emaid": issued.contract.emaid},
        )
    return redirect("certificate_overview", tenant_slug=request.tenant.slug)


@operator_view(read=access.OPERATE, write=access.OPERATE)
@require_POST
def contract_revoke(request, pk: int):
    contract = get_object_or_404(ContractCertificate, pk=pk)
    contracts.contract_revoke(contract=contract)
    messages.success(
        request,
        _("Revoked: OCSP answers revoked for %(emaid)s's certificate from now on.")
        % {"emaid": contract.emaid},
    )
    return redirect("certificate_overview", tenant_slug=request.tenant.slug)
