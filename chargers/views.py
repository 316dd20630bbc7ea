import zoneinfo

from django.contrib import messages
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from chargers.forms import IdTokenForm, IdTokenImportForm
from chargers.models import IdToken
from chargers.token_import import import_tokens
from cpms.models import Role
from cpms.tenancy import operator_view


@operator_view()
def id_token_list(request):
    query = request.GET.get("q", "").strip()
    tokens = IdToken.objects.select_related("group")
    if query:
        tokens = tokens.filter(Q(uid__icontains=query) | Q(label__icontains=query))
    return render(request, "chargers/id_token_list.html", {"tokens": tokens[:500], "q": query})


@operator_view(read=Role.OPERATOR, write=Role.OPERATOR)
def id_token_edit(request, pk: int | None = None):
    token = get_object_or_404(IdToken, pk=pk) if pk else None
    # An expiry typed as 2030-01-31 00:00 means midnight where the operator works.
    with timezone.override(zoneinfo.ZoneInfo(request.tenant.timezone)):
        form = IdTokenForm(request.POST or None, instance=token, tenant=request.tenant)
        if request.method == "POST" and form.is_valid():
            token = form.save()
            messages.success(request, f"Token {token.uid} saved.")
            return redirect("id_token_list", tenant_slug=request.tenant.slug)
        return render(
            request,
            "cpms/form.html",
            {"form": form, "title": "Id token", "object": token, "cancel": "id_token_list"},
        )


@operator_view(read=Role.OPERATOR, write=Role.OPERATOR)
def id_token_import(request):
    form = IdTokenImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        result = import_tokens(
            data=form.cleaned_data["file"].read(), tz=zoneinfo.ZoneInfo(request.tenant.timezone)
        )
        if not result.errors:
            messages.success(
                request, f"Imported: {result.created} new, {result.updated} updated tokens."
            )
            return redirect("id_token_list", tenant_slug=request.tenant.slug)
    return render(request, "chargers/id_token_import.html", {"form": form, "result": result})
