from django.urls import reverse

from cpms.models import Role
from tests.factories import make_member


def test_staff_switch_tenants_explicitly_and_the_admin_follows(
    client, staff, site_a, tenant_a, tenant_b
):
    client.force_login(staff)
    response = client.post(reverse("switch_tenant"), {"tenant": "tenant-b"})
    assert response["Location"] == reverse("tenant_overview", kwargs={"tenant_slug": "tenant-b"})
    page = client.get(reverse("admin:cpms_site_changelist"))
    assert b"Mall A" not in page.content
    client.post(reverse("switch_tenant"), {"tenant": ""})
    assert b"Mall A" in client.get(reverse("admin:cpms_site_changelist")).content


def test_staff_see_the_platform_overview(client, staff, tenant_a, tenant_b):
    client.force_login(staff)
    page = client.get(reverse("platform"))
    assert b"Tenant A" in page.content and b"Tenant B" in page.content


def test_people_who_are_not_staff_get_404_on_the_platform_overview(client, alice):
    client.force_login(alice)
    assert client.get(reverse("platform")).status_code == 404


def test_a_member_cannot_switch_into_a_tenant_they_do_not_belong_to(client, charlie, tenant_a):
    client.force_login(charlie)
    assert client.post(reverse("switch_tenant"), {"tenant": "tenant-a"}).status_code == 404


def test_home_sends_a_single_tenant_member_to_their_dashboard(client, bob):
    client.force_login(bob)
    assert client.get("/")["Location"] == "/t/tenant-a/"


def test_home_sends_a_portal_member_to_their_portal(client, paula):
    client.force_login(paula)
    assert client.get("/")["Location"] == "/portal/tenant-a/"


def test_home_lets_people_in_two_tenants_choose(client, bob, tenant_b):
    from cpms.models import Membership
    from cpms.tenancy import scoping

    with scoping.scope(tenant_b):
        Membership.objects.create(user=bob, role=Role.OPERATOR)
    client.force_login(bob)
    page = client.get("/")
    assert page.status_code == 200
    assert b"Tenant A" in page.content and b"Tenant B" in page.content


def test_the_switcher_lists_only_my_tenants(client, alice, tenant_b):
    make_member(tenant_b, "someone@b.test", Role.ADMIN)
    client.force_login(alice)
    page = client.get("/t/tenant-a/")
    assert b"Tenant B" not in page.content
