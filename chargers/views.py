from django.contrib import messages
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render

from chargers.forms import IdTokenForm
from chargers.models import IdToken
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
