"""The certificate pages: the tenant's CA, its policy and fleet operations on root
certificates; a charger's certificates with rotation and its roots. Roles come from
`chargers.certificates.access`."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from chargers.certificates import access, selectors
from chargers.certificates.forms import (
    AuthorityImportForm,
    ContractIssueForm,
    FleetOperationForm,
    RootInstallForm,
    SettingsForm,
)
from chargers.certificates.models import CertificateOperation, InstalledCertificate, OperationKind
from chargers.certificates.services import authority, renewal, roots
from chargers.certificates.services import settings as settings_services
from chargers.models import Charger, CommandStatus
from chargers.ocpp.builders import ActionError
from cpms.forms import save_with
from cpms.tenancy.access import operator_view, role_at_least


def _sent(request, operations: list[CertificateOperation]) -> None:
    failed = [o for o in operations if o.state == "failed"]
    if failed:
        messages.error(request, f"{failed[0].charger.identity}: {failed[0].detail}")
    if len(operations) > len(failed):
        messages.success(
            request,
            f"Sent to {len(operations) - len(failed)} charger(s); outcomes appear below.",
        )


@operator_view(read=access.READ)
def overview(request):
    expiring, expired = selectors.expiring_certificates()
    return render(
        request,
        "certificates/overview.html",
        {
            "authority": selectors.active_authority(),
            "expiring": expiring,
            "expired": expired,
            "operations": CertificateOperation.objects.select_related("charger")[:25],
            "form": FleetOperationForm(),
            "pnc": selectors.plug_and_charge(),
            "issue_form": ContractIssueForm(),
            "can_operate": role_at_least(request, access.OPERATE),
            "is_admin": role_at_least(request, access.MANAGE_AUTHORITY),
        },
    )


@operator_view(read=access.OPERATE, write=access.OPERATE)
@require_POST
def fleet_operation(request):
    form = FleetOperationForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            messages.error(request, f"{field.replace('_', ' ')}: {' '.join(map(str, errors))}")
        return redirect("certificate_overview", tenant_slug=request.tenant.slug)
    data, user = form.cleaned_data, request.user
    try:
        if data["kind"] == OperationKind.INSTALL:
            done = roots.roots_install(
                chargers=data["targets"],
                root_kind=data["root_kind"],
                pem=data["certificate"],
                requested_by=user,
            )
        elif data["kind"] == OperationKind.LIST:
            done = roots.roots_list(chargers=data["targets"], requested_by=user)
        else:
            done = roots.roots_delete(
                chargers=data["targets"],
                hash_data={
                    k: data[k] for k in ("issuer_name_hash", "issuer_key_hash", "serial_number")
                },
                requested_by=user,
            )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        _sent(request, done)
    return redirect("certificate_overview", tenant_slug=request.tenant.slug)


@operator_view(read=access.MANAGE_AUTHORITY, write=access.MANAGE_AUTHORITY)
def authority_edit(request):
    form = AuthorityImportForm()
    if request.method == "POST":
        if "create" in request.POST:
            authority.authority_create()
            messages.success(request, "A new CA signs your chargers' certificates from now on.")
            return redirect("certificate_overview", tenant_slug=request.tenant.slug)
        form = AuthorityImportForm(request.POST)
        imported = None
        if form.is_valid():
            imported = save_with(
                form,
                authority.authority_import,
                certificate_pem=form.cleaned_data["certificate"],
                key_pem=form.cleaned_data["key"],
            )
        if imported is not None:
            messages.success(request, "Imported: your sub-CA signs from now on.")
            return redirect("certificate_overview", tenant_slug=request.tenant.slug)
    return render(
        request,
        "certificates/authority_form.html",
        {"form": form, "authority": selectors.active_authority()},
    )


@operator_view(read=access.MANAGE_AUTHORITY, write=access.MANAGE_AUTHORITY)
def settings_edit(request):
    current = settings_services.certificate_settings()
    form = SettingsForm(
        request.POST or None,
        initial={"renew_days": current.renew_days, "pin_issued": current.pin_issued},
    )
    if request.method == "POST" and form.is_valid():
        if save_with(form, settings_services.certificate_settings_set, **form.cleaned_data):
            messages.success(request, "Certificate policy saved.")
            return redirect("certificate_overview", tenant_slug=request.tenant.slug)
    return render(request, "certificates/settings_form.html", {"form": form})


@operator_view(read=access.READ, write=access.OPERATE)
def charger_certificates(request, pk: int):
    charger = get_object_or_404(Charger, pk=pk)
    install_form = RootInstallForm()
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "rotate":
            command = renewal.certificate_rotate(charger=charger, requested_by=request.user)
            if command.status == CommandStatus.OFFLINE:
                messages.error(request, "The charger is offline; rotate it once it is back.")
            else:
                messages.success(request, "Asked the charger for a new certificate.")
            return redirect("charger_certificates", tenant_slug=request.tenant.slug, pk=pk)
        if action == "list":
            _sent(request, roots.roots_list(chargers=[charger], requested_by=request.user))
            return redirect("charger_certificates", tenant_slug=request.tenant.slug, pk=pk)
        if action == "delete":
            chosen = request.POST.get("installed", "")
            installed = get_object_or_404(
                InstalledCertificate, pk=int(chosen) if chosen.isdigit() else 0, charger=charger
            )
            data = {
                "hash_algorithm": installed.hash_algorithm,
                "issuer_name_hash": installed.issuer_name_hash,
                "issuer_key_hash": installed.issuer_key_hash,
                "serial_number": installed.serial_number,
            }
            _sent(
                request,
                roots.roots_delete(chargers=[charger], hash_data=data, requested_by=request.user),
            )
            return redirect("charger_certificates", tenant_slug=request.tenant.slug, pk=pk)
        install_form = RootInstallForm(request.POST)
        if install_form.is_valid():
            try:
                done = save_with(
                    install_form,
                    roots.roots_install,
                    chargers=[charger],
                    root_kind=install_form.cleaned_data["root_kind"],
                    pem=install_form.cleaned_data["certificate"],
                    requested_by=request.user,
                )
            except ActionError as error:
                install_form.add_error(None, str(error))
                done = None
            if done is not None:
                _sent(request, done)
                return redirect("charger_certificates", tenant_slug=request.tenant.slug, pk=pk)
    return render(
        request,
        "certificates/charger_certificates.html",
        {
            "charger": charger,
            "pki": selectors.charger_certificates(charger),
            "install_form": install_form,
            "can_operate": role_at_least(request, access.OPERATE),
        },
    )
