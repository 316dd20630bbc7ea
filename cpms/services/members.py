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
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from cpms.audit import services as audit
from cpms.audit.models import ObjectType, Verb
from cpms.languages import recipient_language
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
    """Give a person a role in the tenant. Someone without an account gets one with no
    password, the role at once and an email to choose the password; someone with an account
    (perhaps another tenant's admin) is invited and gets the role once they accept it
    (`membership_accept`). Returns the membership and whether the account is new.
    """
    email = email.strip().lower()
    if Membership.objects.filter(user__email=email).exists():
        raise ValidationError({"email": [_("This person is already a member of this tenant.")]})
    UserModel = get_user_model()
    user = UserModel.objects.filter(email=email).first()
    created = user is None
    if user is None:
        user = UserModel.objects.create_user(email=email, password=None)
    membership = Membership(
        tenant=tenant, user=user, accepted_at=timezone.now() if created else None
    )
    _place(membership, role, site_owner)
    membership.save()
    audit.created(membership, ObjectType.MEMBER, label=email, action=Verb.INVITE)
    if created:
        # A new account has chosen no language yet: it is written to in the inviter's, read
        # now (the email goes out after the commit, perhaps outside this request).
        language = translation.get_language()
        transaction.on_commit(lambda: _send_invitation(membership, inviter_language=language))
    else:
        transaction.on_commit(lambda: _send_invitation_to_accept(membership))
    return membership, created


@transaction.atomic
def membership_accept(*, membership: Membership, user: User) -> Membership:
    """`user` accepts their invitation: from now on the membership gives its role."""
    if membership.user_id != user.pk or membership.accepted_at is not None:
        raise ValidationError({"id": [_("There is no invitation of yours to accept here.")]})
    membership.accepted_at = timezone.now()
    membership.save(update_fields=["accepted_at"])
    return membership


def membership_decline(*, membership: Membership, user: User) -> None:
    """`user` declines their invitation: it goes, and the tenant sees them no more."""
    if membership.user_id != user.pk or membership.accepted_at is not None:
        raise ValidationError({"id": [_("There is no invitation of yours to decline here.")]})
    membership.delete()


def membership_update(
    *, membership: Membership, role: str, site_owner: SiteOwner | None = None, actor: User | None
) -> Membership:
    """Change a member's role (and, for portal members, their site owner)."""
    check_membership_change(actor=actor, membership=membership, role=role)
    before = audit.snapshot(membership, ["role", "site_owner"])
    _place(membership, role, site_owner)
    with transaction.atomic():
        membership.save(update_fields=["role", "site_owner"])
        audit.changed(membership, ObjectType.MEMBER, before=before, label=membership.user.email)
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, actor: User | None) -> None:
    check_membership_change(actor=actor, membership=membership, removing=True)
    audit.deleted(membership, ObjectType.MEMBER, label=membership.user.email, action=Verb.REMOVE)
    membership.delete()


def _send_invitation(membership: Membership, *, inviter_language: str | None = None) -> None:
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
    with recipient_language(user, otherwise=inviter_language):
        subject = render_to_string("registration/invitation_subject.txt", context).strip()
        body = render_to_string("registration/invitation_email.txt", context)
    send_mail(subject, body, None, [user.email])


def _send_invitation_to_accept(membership: Membership) -> None:
    """People with an account already are asked, not enlisted: the email links to their
    invitations, where they accept or decline."""
    site = urlsplit(settings.SITE_URL)
    context = {
        "tenant": membership.tenant,
        "membership": membership,
        "user": membership.user,
        "protocol": site.scheme or "https",
        "domain": site.netloc,
    }
    with recipient_language(membership.user):
        subject = render_to_string("registration/invitation_subject.txt", context).strip()
        body = render_to_string("registration/invitation_to_accept_email.txt", context)
    send_mail(subject, body, None, [membership.user.email])
