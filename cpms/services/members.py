"""Writes of who works in a tenant: inviting people, changing their role, removing them."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from cpms.models import Membership, SiteOwner, Tenant, User
from cpms.tenancy.access import check_membership_change


def _place(membership: Membership, role: str, site_owner: SiteOwner | None) -> None:
    membership.role = role
    membership.site_owner = site_owner
    # The portal role goes with a site owner, the others without (Membership.clean).
    membership.full_clean(exclude=["tenant", "user"], validate_constraints=False)


@transaction.atomic
def membership_invite(
    *, tenant: Tenant, email: str, role: str, site_owner: SiteOwner | None = None
) -> tuple[Membership, bool]:
    """Give a person a role in the tenant; someone without an account gets one with no
    password and an email to choose it. Returns the membership and whether the account is new.
    """
    email = email.strip().lower()
    if Membership.objects.filter(user__email=email).exists():
        raise ValidationError({"email": ["This person is already a member of this tenant."]})
    UserModel = get_user_model()
    user = UserModel.objects.filter(email=email).first()
    created = user is None
    if user is None:
        user = UserModel.objects.create_user(email=email, password=None)
    membership = Membership(tenant=tenant, user=user)
    _place(membership, role, site_owner)
    membership.save()
    if created:
        transaction.on_commit(lambda: _send_invitation(membership))
    return membership, created


def membership_update(
    *, membership: Membership, role: str, site_owner: SiteOwner | None = None, actor: User | None
) -> Membership:
    """Change a member's role (and, for portal members, their site owner)."""
    check_membership_change(actor=actor, membership=membership, role=role)
    _place(membership, role, site_owner)
    membership.save(update_fields=["role", "site_owner"])
    return membership


def membership_remove(*, membership: Membership, actor: User | None) -> None:
    check_membership_change(actor=actor, membership=membership, removing=True)
    membership.delete()


def _send_invitation(membership: Membership) -> None:
    """New accounts start with no password; the invitation links to choosing one."""
    user, site = membership.user, urlsplit(settings.SITE_URL)
    context = {
        "tenant": membership.tenant,
        "user": user,
        "protocol": site.scheme or "https",
        "domain": site.netloc,
        "uid": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": default_token_generator.make_token(user),
    }
    subject = render_to_string("registration/invitation_subject.txt", context).strip()
    body = render_to_string("registration/invitation_email.txt", context)
    send_mail(subject, body, None, [user.email])
