"""The id tokens page: find tokens by status, page through thousands, block and unblock."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from chargers.models import IdToken
from cpms.tenancy import scoping


@pytest.fixture
def tokens(tenant_a):
    past = timezone.now() - timedelta(days=1)
    with scoping.scope(tenant_a):
        return {
            "ok": IdToken.objects.create(uid="04OK"),
            "blocked": IdToken.objects.create(uid="04BLOCKED", blocked=True),
            "expired": IdToken.objects.create(uid="04EXPIRED", expires_at=past),
            "both": IdToken.objects.create(uid="04BOTH", blocked=True, expires_at=past),
        }


def page(name="id_token_list", **kwargs):
    return reverse(name, kwargs={"tenant_slug": "tenant-a", **kwargs})


@pytest.mark.parametrize(
    "status,expected",
    [
        ("Accepted", {"04OK"}),
        ("Blocked", {"04BLOCKED", "04BOTH"}),
        ("Expired", {"04EXPIRED"}),
        ("", {"04OK", "04BLOCKED", "04EXPIRED", "04BOTH"}),
    ],
)
def test_the_list_filters_tokens_by_their_status(client, tokens, bob, status, expected):
    client.force_login(bob)
    listed = client.get(page(), {"status": status}).context["page"].object_list
    assert {t.uid for t in listed} == expected
    assert all(t.status() == status for t in listed if status)


def test_the_list_pages_through_many_tokens(client, tenant_a, bob):
    with scoping.scope(tenant_a):
        IdToken.objects.bulk_create(IdToken(uid=f"T{i:04d}") for i in range(250))
    client.force_login(bob)
    last = client.get(page(), {"page": "3"})
    assert [t.uid for t in last.context["page"].object_list][-1] == "T0249"
    assert b"Page 3 of 3" in last.content


def test_an_operator_blocks_a_token_from_the_list(client, tenant_a, tokens, olga):
    client.force_login(olga)
    response = client.post(
        page("id_token_block", pk=tokens["ok"].pk), {"blocked": "1", "q": "04", "status": ""}
    )
    assert response.status_code == 302 and response["Location"].endswith("/id-tokens/?q=04")
    with scoping.scope(tenant_a):
        assert IdToken.objects.get(uid="04OK").blocked


def test_an_operator_unblocks_a_token(client, tenant_a, tokens, olga):
    client.force_login(olga)
    client.post(page("id_token_block", pk=tokens["blocked"].pk), {"blocked": "0"})
    with scoping.scope(tenant_a):
        assert not IdToken.objects.get(uid="04BLOCKED").blocked


def test_a_block_without_a_choice_is_refused_and_changes_nothing(client, tenant_a, tokens, olga):
    client.force_login(olga)
    response = client.post(
        page("id_token_block", pk=tokens["ok"].pk), {"blocked": "yes"}, follow=True
    )
    assert b"blocked: choose 1 (block) or 0 (unblock)." in response.content
    with scoping.scope(tenant_a):
        assert not IdToken.objects.get(uid="04OK").blocked


def test_bob_the_viewer_cannot_block_a_token(client, tenant_a, tokens, bob):
    client.force_login(bob)
    response = client.post(page("id_token_block", pk=tokens["ok"].pk), {"blocked": "1"})
    assert response.status_code == 403
    assert b">Block</button>" not in client.get(page()).content
    with scoping.scope(tenant_a):
        assert not IdToken.objects.get(uid="04OK").blocked


def test_charlie_cannot_block_a_tenant_a_token_from_his_slug(client, tenant_a, tokens, charlie):
    client.force_login(charlie)
    url = reverse("id_token_block", kwargs={"tenant_slug": "tenant-b", "pk": tokens["ok"].pk})
    assert client.post(url, {"blocked": "1"}).status_code == 404
    with scoping.scope(tenant_a):
        assert not IdToken.objects.get(uid="04OK").blocked


def test_the_list_finds_the_members_of_a_group(client, tenant_a, bob):
    with scoping.scope(tenant_a):
        fleet = IdToken.objects.create(uid="FLEET-7")
        IdToken.objects.create(uid="04VAN", group=fleet)
        IdToken.objects.create(uid="04LONER")
    client.force_login(bob)
    listed = client.get(page(), {"q": "fleet-7"}).context["page"].object_list
    assert {t.uid for t in listed} == {"FLEET-7", "04VAN"}
