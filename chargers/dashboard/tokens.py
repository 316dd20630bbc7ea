import zoneinfo
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from chargers.access import MANAGE_TOKENS
from chargers.dashboard.forms import IdTokenForm, IdTokenImportForm
from chargers.exports import id_tokens_csv
from chargers.models import IdToken, IdTokenStatus
from chargers.selectors.tokens import token_table
from chargers.services.tokens import (
    id_token_create,
    id_token_set_blocked,
    id_token_update,
    id_tokens_import,
)
from cpms.exports import export_filename, refused
from cpms.forms import form_page, save_with
from cpms.paging import pager_params
from cpms.tenancy.access import operator_view


@operator_view()
def id_token_list(request):
    query = request.GET.get("q", "").strip()
    status = request.GET.get("status", "")
    tokens = token_table(q=query, status=status)
    page = Paginator(tokens, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "chargers/id_token_list.html",
        {
            "page": page,
            "q": query,
            "status": status,
            "statuses": IdTokenStatus.values,
            "params": pager_params(request.GET),
        },
    )


@operator_view()
def id_token_export(request):
    """The tokens the list shows, as CSV the token import reads back; an unknown status is a 400
    naming the filter."""
    problem = refused(request.GET, {"status": IdTokenStatus.values})
    if problem:
        return HttpResponseBadRequest(problem, content_type="text/plain; charset=utf-8")
    tokens = token_table(
        q=request.GET.get("q", "").strip(), status=request.GET.get("status", "").strip()
    )
    return id_tokens_csv(
        tokens,
        tz=zoneinfo.ZoneInfo(request.tenant.timezone),
        tenant=request.tenant,
        filename=export_filename("id-tokens", request.tenant),
    )


@operator_view(read=MANAGE_TOKENS, write=MANAGE_TOKENS)
@require_POST
def id_token_block(request, pk: int):
    """Block or unblock a token from the list; chargers hear it at their next Authorize."""
    token = get_object_or_404(IdToken, pk=pk)
    choice = request.POST.get("blocked", "")
    if choice not in ("0", "1"):
        messages.error(request, _("blocked: choose 1 (block) or 0 (unblock)."))
    else:
        id_token_set_blocked(token=token, blocked=choice == "1")
        done = _("Token %(uid)s blocked.") if choice == "1" else _("Token %(uid)s unblocked.")
        messages.success(request, done % {"uid": token.uid})
    # Back to the list as the operator filtered it.
    kept = {k: request.POST[k] for k in ("q", "status", "page") if request.POST.get(k)}
    url = reverse("id_token_list", kwargs={"tenant_slug": request.tenant.slug})
    return redirect(f"{url}?{urlencode(kept)}" if kept else url)


@operator_view(read=MANAGE_TOKENS, write=MANAGE_TOKENS)
def id_token_edit(request, pk: int | None = None):
    token = get_object_or_404(IdToken, pk=pk) if pk else None
    # An expiry typed as 2030-01-31 00:00 means midnight where the operator works.
    with timezone.override(zoneinfo.ZoneInfo(request.tenant.timezone)):
        form = IdTokenForm(request.POST or None, instance=token, tenant=request.tenant)
        if request.method == "POST" and form.is_valid():
            if token is None:
                saved = save_with(form, id_token_create, **form.values())
            else:
                saved = save_with(form, id_token_update, token=token, **form.values())
            if saved is not None:
                messages.success(request, _("Token %(uid)s saved.") % {"uid": saved.uid})
                return redirect("id_token_list", tenant_slug=request.tenant.slug)
        return form_page(request, form, title=_("id token"), instance=token, cancel="id_token_list")


@operator_view(read=MANAGE_TOKENS, write=MANAGE_TOKENS)
def id_token_import(request):
    form = IdTokenImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        result = id_tokens_import(
            data=form.cleaned_data["file"].read(), tz=zoneinfo.ZoneInfo(request.tenant.timezone)
        )
        if not result.errors:
            messages.success(
                request,
                _("Imported: %(created)s new, %(updated)s updated tokens.")
                % {"created": result.created, "updated": result.updated},
            )
            return redirect("id_token_list", tenant_slug=request.tenant.slug)
    return render(request, "chargers/id_token_import.html", {"form": form, "result": result})
