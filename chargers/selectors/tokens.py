"""Reads of id tokens: the tenant's verdict on a token a charger presents, tokens by status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from django.db.models import Q, QuerySet
from django.utils import timezone

from chargers.models import IdToken, IdTokenStatus
from cpms.tenancy.rows import one_row

_Tokens = TypeVar("_Tokens", bound=QuerySet[IdToken])


@dataclass
class TokenInfo:
    status: str  # Accepted, Blocked, Expired, Invalid
    token: IdToken | None = None
    expires_at: datetime | None = None
    group_uid: str | None = None


def id_token_verdict(*, id_tag: str) -> TokenInfo:
    """The tenant's verdict on an id token; unknown tokens are Invalid."""
    # Asked up to three times per session (Authorize, start, stop): one fixed statement.
    token = one_row(IdToken, ignore_case=True, uid=id_tag)
    if token is None:
        return TokenInfo(status="Invalid")
    status = token.status()
    if status == "Accepted" and token.group is not None and token.group.status() != "Accepted":
        status = token.group.status()
    return TokenInfo(
        status=status,
        token=token,
        expires_at=token.expires_at,
        group_uid=token.group.uid if token.group else None,
    )


def token_table(*, q: str = "", status: str = "") -> QuerySet[IdToken]:
    """The token list's rows: uid, label or group uid containing `q`, of a status."""
    tokens = IdToken.objects.select_related("group")
    if q:
        tokens = tokens.filter(
            Q(uid__icontains=q) | Q(label__icontains=q) | Q(group__uid__icontains=q)
        )
    return with_status(tokens, status)


def with_status(tokens: _Tokens, status: str) -> _Tokens:
    """Tokens whose `IdToken.status()` is `status` now, as one query."""
    now = timezone.now()
    expired = Q(expires_at__isnull=False, expires_at__lte=now)
    if status == IdTokenStatus.BLOCKED:
        return tokens.filter(blocked=True)
    if status == IdTokenStatus.EXPIRED:
        return tokens.filter(expired, blocked=False)
    if status == IdTokenStatus.ACCEPTED:
        return tokens.filter(blocked=False).exclude(expired)
    return tokens
