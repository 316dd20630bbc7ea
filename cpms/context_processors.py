from cpms.models import ROLE_RANK, Role, Tenant
from cpms.tenancy.access import effective_role
from cpms.tenancy.doors import invitations_of, memberships_of


def tenancy(request):
    """What the base template needs: the current tenant, the role, the switcher's choices."""
    if not hasattr(request, "tenant"):
        return {}
    user = getattr(request, "user", None)
    role = effective_role(request)
    return {
        "tenant": request.tenant,
        "membership": request.membership,
        "role": role,
        # Operator pages (viewer and up) and the site owners' portal have navigations of their
        # own: a portal member is shown only where they may go.
        "operator_role": role if role in ROLE_RANK else None,
        "portal_member": role == Role.PORTAL,
        "switcher_memberships": memberships_of(user) if user is not None else [],
        "invitation_count": len(invitations_of(user)) if user is not None else 0,
        "all_tenants": (
            Tenant.objects.filter(is_active=True).only("slug", "name")
            if user is not None and user.is_superuser
            else []
        ),
    }
