import re

import pytest
from django.core import mail
from django.urls import reverse

from cpms.models import Membership, Role
from cpms.tenancy import scoping
from tests.factories import PASSWORD


def test_it_serves_the_login_page(client, db):
    response = client.get(reverse("login"))
    assert response.status_code == 200 and b"Log in" in response.content


def test_a_member_logs_in_with_email_and_password(client, bob):
    response = client.post(reverse("login"), {"username": "bob@a.test", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/t/tenant-a/").status_code == 200


def test_a_wrong_password_is_refused_with_a_form_error(client, bob):
    response = client.post(reverse("login"), {"username": "bob@a.test", "password": "nope"})
    assert response.status_code == 200 and b"Please enter a correct" in response.content


def test_logout_ends_the_session(client, bob):
    client.force_login(bob)
    client.post(reverse("logout"))
    assert client.get("/t/tenant-a/").status_code == 302


def test_password_reset_mails_a_working_link(client, bob):
    client.post(reverse("password_reset"), {"email": "bob@a.test"})
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/]+(/\S+)", mail.outbox[0].body).group(1)
    form = client.get(link, follow=True)
    assert b"Choose a new password" in form.content
    client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "An0ther-long-pass", "new_password2": "An0ther-long-pass"},
    )
    assert log_in(client, "An0ther-long-pass").status_code == 302


def test_an_admin_invites_a_member_who_sets_a_password(
    client, alice, tenant_a, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    # The invitation leaves once the membership is committed.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("member_create", kwargs={"tenant_slug": "tenant-a"}),
            {"email": "New.Person@a.test", "role": "operator"},
        )
    assert response.status_code == 302
    with scoping.scope(tenant_a):
        assert Membership.objects.get(user__email="new.person@a.test").role == Role.OPERATOR
    assert "Tenant A" in mail.outbox[0].subject
    assert re.search(r"/accounts/reset/\S+", mail.outbox[0].body)


@pytest.mark.parametrize(
    "name,data,error",
    [
        ("member_create", {"email": "p@a.test", "role": "portal"}, b"Choose the site owner"),
        ("site_create", {"name": "mall a", "timezone": "UTC"}, b"exists"),
        ("site_create", {"name": "X", "timezone": "Mars/Olympus"}, b"not a known IANA time zone"),
    ],
    ids=["a portal member needs a site owner", "a duplicate site name", "an unknown timezone"],
)
def test_a_form_error_is_shown_on_the_form(client, alice, site_a, name, data, error):
    client.force_login(alice)
    response = client.post(reverse(name, kwargs={"tenant_slug": "tenant-a"}), data)
    assert response.status_code == 200
    assert error in response.content


def test_an_admin_cannot_demote_themselves(client, alice, tenant_a):
    client.force_login(alice)
    with scoping.scope(tenant_a):
        mine = Membership.objects.get(user=alice)
    response = client.post(
        reverse("member_edit", kwargs={"tenant_slug": "tenant-a", "pk": mine.pk}),
        {"email": "alice@a.test", "role": "viewer"},
    )
    assert b"cannot remove your own admin role" in response.content
    mine.refresh_from_db()
    assert mine.role == Role.ADMIN


def log_in(client, password, address="203.0.113.5", email="bob@a.test"):
    return client.post(
        reverse("login"), {"username": email, "password": password}, REMOTE_ADDR=address
    )


def test_after_ten_wrong_passwords_even_the_right_one_waits(client, bob, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "nope")
    locked = log_in(client, PASSWORD)
    assert locked.status_code == 429 and b"Too many attempts" in locked.content
    assert client.get("/t/tenant-a/").status_code == 302  # not logged in


def test_case_variants_of_the_address_are_one_account(client, bob, settings):
    for n in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "nope", email="bob@a.test".upper() if n % 2 else "Bob@A.test")
    assert log_in(client, PASSWORD).status_code == 429


def test_a_lockout_is_of_the_account_from_that_address_only(client, bob, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "nope")
    assert log_in(client, PASSWORD, address="198.51.100.20").status_code == 302


def test_platform_staff_can_lift_a_lockout(client, bob, settings):
    from axes.utils import reset

    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "nope")
    reset(username="bob@a.test")  # what the admin's and axes_reset_username's unlock does
    assert log_in(client, PASSWORD).status_code == 302
