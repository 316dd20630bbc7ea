"""Tenancy pages: home, the tenant switcher, site owners, members and API keys."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.views.decorators.http import require_POST

from cpms import apikeys
from cpms.forms import ApiKeyForm, MemberForm, SiteOwnerForm
from cpms.models import ApiKey, Membership, Role, SiteOwner, Tenant
from cpms.tenancy.access import operator_view
from cpms.tenancy.doors import SESSION_KEY, memberships_of


@login_required
def home(request):
    """Send each person where they work: their tenant, their portal, or the platform view."""
    if request.user.is_superuser:
        return redirect("platform")
    memberships = memberships_of(request.user)
    if len(memberships) == 1:
        return redirect(_landing(memberships[0]))
    return render(request, "cpms/choose_tenant.html", {"memberships": memberships})


def _landing(membership: Membership) -> str:
    name = "portal_home" if membership.role == Role.PORTAL else "tenant_overview"
    return reverse(name, kwargs={"tenant_slug": membership.tenant.slug})


@login_required
@require_POST
def switch_tenant(request):
    """The staff switcher: choose the tenant the admin and dashboard work on."""
    slug = request.POST.get("tenant", "")
    if request.user.is_superuser and slug == "":
        request.session.pop(SESSION_KEY, None)
        return redirect("platform")
    if request.user.is_superuser:
        tenant = get_object_or_404(Tenant, slug=slug, is_active=True)
        request.session[SESSION_KEY] = tenant.pk
        return redirect("tenant_overview", tenant_slug=tenant.slug)
    membership = next((m for m in memberships_of(request.user) if m.tenant.slug == slug), None)
    if membership is None:
        raise Http404
    request.session[SESSION_KEY] = membership.tenant_id
    return redirect(_landing(membership))


@operator_view()
def site_owner_list(request):
    owners = SiteOwner.objects.annotate(site_count=Count("sites"))
    return render(request, "cpms/site_owner_list.html", {"owners": owners})


@operator_view()
def site_owner_detail(request, pk: int):
    owner = get_object_or_404(SiteOwner, pk=pk)
    return render(
        request,
        "cpms/site_owner_detail.html",
        {
            "owner": owner,
            "sites": owner.sites.all(),
            "portal_members": owner.portal_members.select_related("user"),
        },
    )


@operator_view(read=Role.ADMIN, write=Role.ADMIN)
def site_owner_edit(request, pk: int | None = None):
    owner = get_object_or_404(SiteOwner, pk=pk) if pk else None
    form = SiteOwnerForm(request.POST or None, instance=owner, tenant=request.tenant)
    if request.method == "POST" and form.is_valid():
        owner = form.save()
        messages.success(request, f"Site owner “{owner.name}” saved.")
        return redirect("site_owner_detail", tenant_slug=request.tenant.slug, pk=owner.pk)
    return render(
        request,
        "cpms/form.html",
        {"form": form, "title": "Site owner", "object": owner, "cancel": "site_owner_list"},
    )


@operator_view(read=Role.ADMIN, write=Role.ADMIN)
def member_list(request):
    members = Membership.objects.select_related("user", "site_owner")
    return render(request, "cpms/member_list.html", {"members": members})


@operator_view(read=Role.ADMIN, write=Role.ADMIN)
def member_edit(request, pk: int | None = None):
    member = get_object_or_404(Membership.objects.select_related("user"), pk=pk) if pk else None
    initial = (
        {"email": member.user.email, "role": member.role, "site_owner": member.site_owner}
        if member
        else None
    )
    form = MemberForm(request.POST or None, initial=initial, tenant=request.tenant, member=member)
    if request.method == "POST" and form.is_valid():
        demoting_self = member is not None and member.user == request.user
        if demoting_self and form.cleaned_data["role"] != Role.ADMIN:
            form.add_error("role", "You cannot remove your own admin role.")
        else:
            member, created = form.save()
            if created:
                _send_invitation(request, member)
                messages.success(request, f"Invitation sent to {member.user.email}.")
            else:
                role = member.get_role_display()
                messages.success(request, f"{member.user.email} is now {role}.")
            return redirect("member_list", tenant_slug=request.tenant.slug)
    return render(
        request,
        "cpms/form.html",
        {"form": form, "title": "Member", "object": member, "cancel": "member_list"},
    )


@operator_view(read=Role.ADMIN, write=Role.ADMIN)
@require_POST
def member_remove(request, pk: int):
    member = get_object_or_404(Membership, pk=pk)
    if member.user == request.user:
        messages.error(request, "You cannot remove yourself.")
    else:
        member.delete()
        messages.success(request, f"{member.user.email} no longer has access.")
    return redirect("member_list", tenant_slug=request.tenant.slug)


def _send_invitation(request, member: Membership) -> None:
    """New accounts start with no password; the invitation links to choosing one."""
    user = member.user
    context = {
        "tenant": request.tenant,
        "user": user,
        "protocol": "https" if request.is_secure() else "http",
        "domain": request.get_host(),
        "uid": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": default_token_generator.make_token(user),
    }
    subject = render_to_string("registration/invitation_subject.txt", context).strip()
    body = render_to_string("registration/invitation_email.txt", context)
    send_mail(subject, body, None, [user.email])


@operator_view(read=Role.ADMIN, write=Role.ADMIN)
def api_key_list(request):
    """Keys of this tenant by prefix; the secret is shown once, right after creation."""
    form = ApiKeyForm(request.POST or None)
    new_secret = None
    if request.method == "POST" and form.is_valid():
        created = apikeys.create_api_key(
            tenant=request.tenant, created_by=request.user, **form.cleaned_data
        )
        new_secret = created.secret
        messages.success(
            request, f"Key “{created.key.name}” created. Copy it now: it is not shown again."
        )
    keys = ApiKey.objects.select_related("created_by")
    return render(
        request, "cpms/api_keys.html", {"keys": keys, "form": form, "new_secret": new_secret}
    )


@operator_view(read=Role.ADMIN, write=Role.ADMIN)
@require_POST
def api_key_revoke(request, pk: int):
    key = get_object_or_404(ApiKey, pk=pk)
    apikeys.revoke_api_key(key=key)
    messages.success(request, f"Key {key.prefix} revoked; requests with it now fail.")
    return redirect("api_key_list", tenant_slug=request.tenant.slug)
