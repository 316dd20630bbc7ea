from cpms.models import Tenant
from cpms.tenancy.access import effective_role
from cpms.tenancy.doors import memberships_of


def tenancy(request):
    """What the base template needs: the current tenant, the role, the switcher's choices."""
    if not hasattr(request, "tenant"):
        return {}
    user = getattr(request, "user", None)
    return {
        "tenant": request.tenant,
        "membership": request.membership,
        "role": effective_role(request),
        "switcher_memberships": memberships_of(user) if user is not None else [],
        "all_tenants": (
            Tenant.objects.filter(is_active=True).only("slug", "name")
            if user is not None and user.is_superuser
            else []
        ),
    }
