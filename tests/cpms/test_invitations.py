"""An admin cannot enlist someone else's account: a person who has an account already is invited
and gets the role only once they accept. Alice is tenant A's admin; charlie is tenant B's."""

import pytest
from django.core import mail
from django.urls import reverse

from cpms.models import ApiKeyRole, Membership, Role
from cpms.tenancy import scoping

pytestmark = pytest.mark.django_db


def invite(client, alice, email="charlie@b.test", role="admin"):
    client.force_login(alice)
    client.post(
        reverse("member_create", kwargs={"tenant_slug": "tenant-a"}),
        {"email": email, "role": role},
    )
    client.logout()


def invitation(tenant_a) -> Membership:
    with scoping.scope(tenant_a):
        return Membership.objects.select_related("user").get(user__email="charlie@b.test")


def answer(client, membership, answer):
    return client.post(reverse("invitations"), {"invitation": membership.pk, "answer": answer})


def test_an_existing_account_is_invited_not_enlisted(
    client, tenant_a, alice, charlie, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invite(client, alice)
    assert invitation(tenant_a).accepted_at is None
    client.force_login(charlie)
    assert client.get("/t/tenant-a/").status_code == 404
    assert b"Tenant A" not in client.get("/t/tenant-b/").content  # not in the switcher
    assert "/invitations/" in mail.outbox[0].body and "accept" in mail.outbox[0].body


def test_an_invitation_waits_for_its_answer_on_the_home_page(client, tenant_a, alice, charlie):
    invite(client, alice)
    client.force_login(charlie)
    home = client.get(reverse("home"))
    assert home.status_code == 200 and b"1 invitation waiting" in home.content
    assert b"Tenant A" in client.get(reverse("invitations")).content


def test_accepting_gives_the_role(client, tenant_a, alice, charlie):
    invite(client, alice)
    client.force_login(charlie)
    response = answer(client, invitation(tenant_a), "accept")
    assert response.status_code == 302
    assert invitation(tenant_a).accepted_at is not None
    assert client.get("/t/tenant-a/settings/").status_code == 200  # an admin page


def test_declining_removes_the_invitation(client, tenant_a, alice, charlie):
    invite(client, alice)
    pending = invitation(tenant_a)
    client.force_login(charlie)
    assert answer(client, pending, "decline").status_code == 302
    with scoping.scope(tenant_a):
        assert not Membership.objects.filter(pk=pending.pk).exists()
    assert client.get("/t/tenant-a/").status_code == 404


def test_nobody_answers_someone_elses_invitation(client, tenant_a, alice, bob, charlie):
    invite(client, alice)
    pending = invitation(tenant_a)
    client.force_login(bob)
    assert answer(client, pending, "accept").status_code == 404
    assert invitation(tenant_a).accepted_at is None


def test_the_admins_see_who_has_not_accepted_yet(client, tenant_a, alice, charlie):
    invite(client, alice)
    client.force_login(alice)
    members = client.get(reverse("member_list", kwargs={"tenant_slug": "tenant-a"}))
    assert b"invited, not accepted yet" in members.content


def test_a_pending_admin_invitation_gives_no_admin_scope(
    client, tenant_a, tenant_b, alice, charlie
):
    # Charlie, tenant B's staff admin, works in the admin on tenant B alone, and sees so.
    invite(client, alice)
    client.force_login(charlie)
    page = client.get(reverse("admin:cpms_membership_changelist"))
    assert b"Acting on <strong>Tenant B</strong>" in page.content
    assert b"alice@a.test" not in page.content


def test_a_new_account_has_its_role_at_once(client, tenant_a, alice):
    invite(client, alice, email="new.person@a.test", role="operator")
    with scoping.scope(tenant_a):
        member = Membership.objects.get(user__email="new.person@a.test")
    assert member.accepted_at is not None and member.role == Role.OPERATOR


def test_the_api_invites_an_existing_account_too(api, keys):
    client = api(keys[ApiKeyRole.ADMIN])
    response = client.post("/api/v1/members/", {"email": "charlie@b.test", "role": "viewer"})
    assert response.status_code == 201 and response.json()["accepted_at"] is None
