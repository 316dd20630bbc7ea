"""Tenancy pages: home, the tenant switcher, site owners, members, API keys, the tenant's
settings and logo."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db.models import Count
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from cpms import once
from cpms.forms import (
    ApiKeyForm,
    LanguageForm,
    LogoForm,
    MemberForm,
    SiteOwnerForm,
    form_page,
    save_with,
)
from cpms.languages import language_of
from cpms.models import ApiKey, Membership, Role, SiteOwner, Tenant
from cpms.services import accounts, apikeys
from cpms.services import members as member_services
from cpms.services import sites as site_services
from cpms.services import tenants as tenant_services
from cpms.tenancy.access import (
    MANAGE_API_KEYS,
    MANAGE_MEMBERS,
    MANAGE_SITES,
    MANAGE_TENANT,
    operator_view,
)
from cpms.tenancy.doors import SESSION_KEY, invitations_of, memberships_of, resolve_web_tenant


@login_required
def home(request):
    """Send each person where they work: their tenant, their portal, or the platform view."""
    if request.user.is_superuser:
        return redirect("platform")
    memberships, invitations = memberships_of(request.user), invitations_of(request.user)
    if len(memberships) == 1 and not invitations:
        return redirect(_landing(memberships[0]))
    context = {"memberships": memberships, "invitations": invitations}
    return render(request, "cpms/choose_tenant.html", context)


@login_required
def account(request):
    """A person's own settings, whichever tenant they are in: the language they read."""
    form = LanguageForm(request.POST or None, initial={"language": request.user.language})
    if request.method == "POST" and form.is_valid():
        chosen = form.cleaned_data["language"]
        if (
            save_with(form, accounts.user_set_language, user=request.user, language=chosen)
            is not None
        ):
            # The new language shows from this answer on, the message included.
            translation.activate(language_of(request.user))
            messages.success(request, _("Your language is saved."))
            return redirect("account")
    return render(request, "cpms/account.html", {"form": form})


@login_required
def invitations(request):
    """The invitations the user has not answered, each to accept or decline. Only the user's
    own: another id is a 404 like any stranger's."""
    pending = invitations_of(request.user)
    if request.method == "POST":
        chosen = next((m for m in pending if str(m.pk) == request.POST.get("invitation")), None)
        answer = request.POST.get("answer")
        if chosen is None or answer not in ("accept", "decline"):
            raise Http404
        if answer == "accept":
            member_services.membership_accept(membership=chosen, user=request.user)
            messages.success(
                request, _("You now work with %(name)s.") % {"name": chosen.tenant.name}
            )
            return redirect(_landing(chosen))
        member_services.membership_decline(membership=chosen, user=request.user)
        messages.success(
            request, _("You declined %(name)s's invitation.") % {"name": chosen.tenant.name}
        )
        return redirect("invitations")
    return render(request, "cpms/invitations.html", {"invitations": pending})


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


@operator_view(read=MANAGE_SITES, write=MANAGE_SITES)
def site_owner_edit(request, pk: int | None = None):
    owner = get_object_or_404(SiteOwner, pk=pk) if pk else None
    form = SiteOwnerForm(request.POST or None, instance=owner, tenant=request.tenant)
    if request.method == "POST" and form.is_valid():
        if owner is None:
            saved = save_with(form, site_services.site_owner_create, **form.values())
        else:
            saved = save_with(form, site_services.site_owner_update, owner=owner, **form.values())
        if saved is not None:
            messages.success(request, _("Site owner “%(name)s” saved.") % {"name": saved.name})
            return redirect("site_owner_detail", tenant_slug=request.tenant.slug, pk=saved.pk)
    return form_page(request, form, title=_("site owner"), instance=owner, cancel="site_owner_list")


@operator_view(read=MANAGE_MEMBERS, write=MANAGE_MEMBERS)
def member_list(request):
    members = Membership.objects.select_related("user", "site_owner")
    return render(request, "cpms/member_list.html", {"members": members})


@operator_view(read=MANAGE_MEMBERS, write=MANAGE_MEMBERS)
def member_edit(request, pk: int | None = None):
    member = get_object_or_404(Membership.objects.select_related("user"), pk=pk) if pk else None
    initial = (
        {"email": member.user.email, "role": member.role, "site_owner": member.site_owner}
        if member
        else None
    )
    form = MemberForm(request.POST or None, initial=initial, member=member)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if member is None:
            invited = save_with(
                form,
                member_services.membership_invite,
                tenant=request.tenant,
                email=data["email"],
                role=data["role"],
                site_owner=data["site_owner"],
            )
            if invited is not None:
                new, created = invited
                if created:
                    messages.success(
                        request, _("Invitation sent to %(email)s.") % {"email": new.user.email}
                    )
                else:
                    messages.success(
                        request,
                        _(
                            "%(email)s has an account already: they are invited and get "
                            "access once they accept."
                        )
                        % {"email": new.user.email},
                    )
                return redirect("member_list", tenant_slug=request.tenant.slug)
        else:
            changed = save_with(
                form,
                member_services.membership_update,
                membership=member,
                role=data["role"],
                site_owner=data["site_owner"],
                actor=request.user,
            )
            if changed is not None:
                role = changed.get_role_display()
                messages.success(
                    request,
                    _("%(email)s is now %(role)s.") % {"email": changed.user.email, "role": role},
                )
                return redirect("member_list", tenant_slug=request.tenant.slug)
    return form_page(request, form, title=_("member"), instance=member, cancel="member_list")


@operator_view(read=MANAGE_MEMBERS, write=MANAGE_MEMBERS)
@require_POST
def member_remove(request, pk: int):
    member = get_object_or_404(Membership.objects.select_related("user"), pk=pk)
    try:
        member_services.membership_remove(membership=member, actor=request.user)
    except ValidationError as refused:
        messages.error(request, " ".join(refused.messages))
    else:
        messages.success(
            request, _("%(email)s no longer has access.") % {"email": member.user.email}
        )
    return redirect("member_list", tenant_slug=request.tenant.slug)


@never_cache
@operator_view(read=MANAGE_API_KEYS, write=MANAGE_API_KEYS)
def api_key_list(request):
    """Keys of this tenant by prefix. A new key's secret is shown once, on the page the
    creation redirects to: a reload shows the list, and creates nothing."""
    form = ApiKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        created = apikeys.api_key_create(
            tenant=request.tenant, created_by=request.user, **form.cleaned_data
        )
        once.keep_for_one_display(
            request, f"api-key:{request.tenant.pk}", {"secret": created.secret}
        )
        messages.success(
            request,
            _("Key “%(name)s” created. Copy it now: it is not shown again.")
            % {"name": created.key.name},
        )
        return redirect("api_key_list", tenant_slug=request.tenant.slug)
    shown = once.take(request, f"api-key:{request.tenant.pk}")
    keys = ApiKey.objects.select_related("created_by")
    return render(
        request,
        "cpms/api_keys.html",
        {"keys": keys, "form": form, "new_secret": shown["secret"] if shown else None},
    )


@operator_view(read=MANAGE_API_KEYS, write=MANAGE_API_KEYS)
@require_POST
def api_key_revoke(request, pk: int):
    key = get_object_or_404(ApiKey, pk=pk)
    apikeys.api_key_revoke(key=key)
    messages.success(
        request, _("Key %(prefix)s revoked; requests with it now fail.") % {"prefix": key.prefix}
    )
    return redirect("api_key_list", tenant_slug=request.tenant.slug)


@operator_view(read=MANAGE_TENANT, write=MANAGE_TENANT)
def tenant_settings(request):
    """The tenant's own settings: its logo, for now."""
    tenant = request.tenant
    form = LogoForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and request.POST.get("remove"):
        tenant_services.tenant_remove_logo(tenant=tenant)
        messages.success(request, _("Logo removed."))
        return redirect("tenant_settings", tenant_slug=tenant.slug)
    if request.method == "POST" and form.is_valid():
        saved = save_with(
            form, tenant_services.tenant_set_logo, tenant=tenant, upload=form.cleaned_data["logo"]
        )
        if saved is not None:
            messages.success(request, _("Logo saved; it shows in the header of every page."))
            return redirect("tenant_settings", tenant_slug=tenant.slug)
    return render(request, "cpms/tenant_settings.html", {"form": form})


@login_required
def tenant_logo(request, slug: str):
    """A tenant's logo, for its members (site owners included) and platform staff; the same
    404 as a missing tenant for anyone else. Only images checked at upload are stored, and
    they are sent with their own type, never to be sniffed or run as a document."""
    tenant, _ = resolve_web_tenant(request.user, slug)
    if not tenant.logo or not default_storage.exists(tenant.logo.name):
        raise Http404
    image = tenant.logo.open("rb")
    found = tenant_services.logo_type(image.read(12))
    if found is None:
        image.close()
        raise Http404
    image.seek(0)
    response = FileResponse(image, content_type=found[1])
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, max-age=86400"
    return response
