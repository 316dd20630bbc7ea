"""Reads of id tokens: the tenant's verdict on a token a charger presents, tokens by status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from django.db.models import Q, QuerySet
from django.utils import timezone

from chargers.models import IdToken, IdTokenStatus, IdTokenType
from cpms.tenancy.rows import one_row

_Tokens = TypeVar("_Tokens", bound=QuerySet[IdToken])


@dataclass
class TokenInfo:
    status: str  # Accepted, Blocked, Expired, Invalid
    token: IdToken | None = None
    expires_at: datetime | None = None
    group_uid: str | None = None


# Card readers: chargers report the same card as ISO14443 in one message and Local in the
# next (FIELD-NOTES), so these stand for each other.
READ_FROM_A_CARD = frozenset({IdTokenType.ISO14443, IdTokenType.ISO15693, IdTokenType.LOCAL})
# Types that are matched only by themselves: what a driver types on a keypad, an EV's contract,
# an EV's MAC address. A card's number typed as a key code must not open its account.
SELF_ONLY = frozenset({IdTokenType.KEY_CODE, IdTokenType.EMAID, IdTokenType.MAC_ADDRESS})


def types_match(*, presented: str | None, stored: str) -> bool:
    """Whether a token presented with type `presented` (2.0.1's IdTokenEnumType; None where
    the version has none, 1.6) is the stored token of type `stored`, their values alike.

    A 1.6 idTag, and a token the CSMS handed out itself (Central: a remote start, a group),
    match by value. A card's types stand for each other; keypad codes, contracts and MAC
    addresses match their own type only; NoAuthorization identifies nobody.
    """
    if presented is None or presented == IdTokenType.CENTRAL:
        return True
    if presented == IdTokenType.NO_AUTHORIZATION:
        return False
    if presented in READ_FROM_A_CARD:
        return stored in READ_FROM_A_CARD
    if presented in SELF_ONLY:
        return stored == presented
    return False  # a type 2.0.1 does not name


def id_token_verdict(*, id_tag: str, token_type: str | None = None) -> TokenInfo:
    """The tenant's verdict on an id token presented with `token_type` (2.0.1; None for 1.6);
    unknown tokens, and known values presented as another kind of token, are Invalid."""
    # Asked up to three times per session (Authorize, start, stop): one fixed statement.
    token = one_row(IdToken, ignore_case=True, uid=id_tag)
    if token is None or not types_match(presented=token_type, stored=token.type):
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
