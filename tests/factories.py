"""People and API keys for tests: members of a tenant with a known password, tenant and
platform API keys. The fixtures of tests/conftest.py make the usual personas with these; tests
call them for one more."""

from cpms.models import Membership, User
from cpms.services import apikeys
from cpms.tenancy import scoping

PASSWORD = "correct-horse-battery-staple"


def make_member(tenant, email, role, site_owner=None, staff=False):
    user = User.objects.create_user(email=email, password=PASSWORD, is_staff=staff)
    with scoping.scope(tenant):
        Membership.objects.create(tenant=tenant, user=user, role=role, site_owner=site_owner)
    return user


def make_key(tenant, role, user=None, **fields) -> str:
    """A tenant API key's secret."""
    with scoping.scope(tenant):
        return apikeys.api_key_create(
            tenant=tenant, name=f"{role} key", role=role, created_by=user, **fields
        ).secret


def make_platform_key(role, user, **fields) -> str:
    """A platform staff API key's secret (no tenant: requests name one in X-Tenant)."""
    return apikeys.platform_api_key_create(
        name=f"staff {role} key", role=role, created_by=user, **fields
    ).secret


def make_audit_entry(**fields):
    """An audit entry as a person's change leaves it, in the active scope (pages' and routes'
    worlds; the audit log's own tests make theirs through the services)."""
    from cpms.audit.models import AuditEntry

    values = {
        "actor_kind": "user",
        "actor_label": "alice@a.test",
        "actor_role": "admin",
        "door": "web",
        "action": "update",
        "object_type": "charger",
        "object_id": "1",
        "object_label": "CP-A",
        "changes": {"site": {"before": None, "after": 1}},
    }
    return AuditEntry.objects.create(**{**values, **fields})
