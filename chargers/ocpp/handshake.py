"""Who may open an OCPP socket: the checks made on the upgrade request, before accepting it.

Every refusal of credentials looks the same to the caller (HTTP 401; other refusals 403) and
is recorded for the operator with who, when, from where and why.

Security profiles 1 and 2 authenticate with HTTP Basic (user = charge point id). Profile 3 uses a
TLS client certificate, verified by the reverse proxy (deploy/nginx-ocpp.conf), which passes the
result on in headers; those headers count only from the proxies `cpms.proxies` trusts.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import TypedDict, Unpack

from django.core.exceptions import ValidationError

from chargers import credentials
from chargers.certificates.selectors import pinned_fingerprints
from chargers.models import Charger, OcppVersion, SecurityProfile, validate_identity
from chargers.ocpp.throttle import throttle
from chargers.selectors.chargers import charger_for_handshake
from chargers.services.chargers import charger_register_pending
from chargers.services.connections import connection_open, handshake_refusal_record
from chargers.services.fleet_settings import version_change_policy
from cpms import hashing
from cpms.models import Tenant
from cpms.proxies import forwarded_for, from_trusted_proxy
from cpms.tenancy import scoping
from cpms.tenancy.doors import tenant_for_ocpp

# Newest first: a charger offering several gets the newest, unless it is registered on one of
# them already.
SUBPROTOCOLS: dict[str, str] = {
    "ocpp2.1": OcppVersion.V21,
    "ocpp2.0.1": OcppVersion.V201,
    "ocpp1.6": OcppVersion.V16,
}
SUBPROTOCOL_OF = {version: name for name, version in SUBPROTOCOLS.items()}
# What the TLS proxy passes on about the client certificate (nginx: $ssl_client_verify,
# $ssl_client_s_dn, $ssl_client_escaped_cert). The proxy replaces any copies a client sends.
VERIFY_HEADER = b"x-client-cert-verify"
SUBJECT_HEADER = b"x-client-cert-subject"
CERTIFICATE_HEADER = b"x-client-cert"
CERTIFICATE_HEADERS = (VERIFY_HEADER, SUBJECT_HEADER, CERTIFICATE_HEADER)


@dataclass
class Admitted:
    tenant: Tenant
    # None for an unknown charger that gave its tenant's onboarding password: it is
    # registered, pending approval, with that password (`open_socket`).
    charger: Charger | None
    version: str
    subprotocol: str
    # The charger's address: the peer's, or behind a trusted proxy the one it forwarded.
    remote_addr: str
    onboarding_password: str = field(default="", repr=False)


# Refusals for a charger's credentials answer 401, as OCPP asks; so do the tenant and charger
# ids nobody knows here, which must look no different from a wrong password.
CREDENTIAL_REASONS = frozenset(
    {
        "unknown_tenant",
        "unknown_charger",
        "missing_credentials",
        "identity_mismatch",
        "wrong_password",
        "certificate_missing",
        "certificate_cn_mismatch",
        "certificate_not_pinned",
    }
)


@dataclass(frozen=True)
class Refused:
    """A socket refused before the upgrade, with the HTTP status to answer."""

    status: int
    reason: str = field(default="", compare=False)  # for the metrics (chargers.ocpp.metrics)


UNHEARD = Refused(401, "throttled")  # throttled: answered as a wrong password would be


@dataclass
class Opened:
    """A socket admitted and recorded as its charger's socket."""

    tenant: Tenant
    charger: Charger
    version: str
    subprotocol: str
    previous_channel: str  # the socket it replaces, if any
    connection_event_id: int


def choose_subprotocol(offered: list[str], registered: str = "") -> str | None:
    offered = [p.strip().lower() for p in offered]
    if SUBPROTOCOL_OF.get(registered) in offered:
        return SUBPROTOCOL_OF[registered]
    return next((p for p in SUBPROTOCOLS if p in offered), None)


def basic_credentials(headers: dict[bytes, bytes]) -> tuple[str, str] | None:
    value = headers.get(b"authorization", b"").decode("latin-1")
    scheme, _, encoded = value.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, colon, password = decoded.partition(":")
    return (user, password) if colon else None


def certificate_problem(
    charger: Charger, headers: dict[bytes, bytes], proxied: bool
) -> tuple[str, str] | None:
    """Why the client certificate does not admit this profile-3 charger, or None."""

    def header(name: bytes) -> str:
        return headers.get(name, b"").decode("latin-1")

    if not proxied:
        if any(name in headers for name in CERTIFICATE_HEADERS):
            return "certificate_missing", "certificate headers from an untrusted address ignored"
        return "certificate_missing", "profile 3: connect through the TLS proxy with a certificate"
    verified = header(VERIFY_HEADER)
    if verified != "SUCCESS":
        return "certificate_missing", f"proxy verification: {verified[:100] or 'none'}"
    try:
        names = credentials.common_names(header(SUBJECT_HEADER))
    except ValueError as error:
        return "certificate_cn_mismatch", f"unreadable subject: {error}"
    if names != [charger.identity]:
        return "certificate_cn_mismatch", f"certificate CN {', '.join(names)[:100] or 'none'!r}"
    fingerprint = credentials.certificate_fingerprint(header(CERTIFICATE_HEADER))
    if charger.certificate_fingerprint and fingerprint != charger.certificate_fingerprint:
        return "certificate_not_pinned", f"certificate SHA-256 {fingerprint or 'not passed on'}"
    # The tenant's pinning: only a certificate its CA issued to this charger, still valid.
    with scoping.scope(charger.tenant):
        issued = pinned_fingerprints(charger)
    if issued is not None and fingerprint not in issued:
        return (
            "certificate_not_pinned",
            f"certificate SHA-256 {fingerprint or 'not passed on'}: not issued here to this "
            "charger, or no longer valid",
        )
    return None


def admit(
    *,
    tenant_slug: str,
    identity: str,
    offered: list[str],
    headers: dict[bytes, bytes],
    remote_addr: str,
) -> Admitted | Refused:
    """The charger allowed to open this socket, or the refusal, after recording why.

    `remote_addr` is the socket's peer, which daphne does not rewrite (cpms.proxies).
    """
    proxied = from_trusted_proxy(remote_addr)
    forwarded = forwarded_for(headers.get(b"x-forwarded-for", b"").decode("latin-1"))
    charger_addr = (forwarded or remote_addr) if proxied else remote_addr
    named = (tenant_slug, identity)
    if not throttle.heard(address=charger_addr, identity=named):
        return UNHEARD  # no query, no hash, no row
    # The charger with its tenant in one query; the tenant alone only for an unknown charger.
    charger = charger_for_handshake(tenant_slug=tenant_slug, identity=identity)
    tenant = charger.tenant if charger is not None else tenant_for_ocpp(tenant_slug)
    if charger is not None and not throttle.heard_for_charger(
        address=charger_addr, identity=named, last_address=charger.remote_addr
    ):
        return UNHEARD

    def refuse(reason: str, detail: str = "") -> Refused:
        """Count the refusal, and record the first of its kind in the throttle's window."""
        first = throttle.failed(address=charger_addr, identity=named, reason=reason)
        if first:
            with scoping.unscoped():
                handshake_refusal_record(
                    tenant=tenant,
                    tenant_slug=tenant_slug,
                    identity=identity,
                    remote_addr=charger_addr,
                    reason=reason,
                    detail=detail,
                )
        return Refused(401 if reason in CREDENTIAL_REASONS else 403, reason)

    registered = charger.ocpp_version if charger is not None else ""
    subprotocol = choose_subprotocol(offered, registered)
    if subprotocol is None:
        return refuse("no_subprotocol", f"offered: {', '.join(offered)[:200] or 'none'}")
    try:
        validate_identity(identity)
    except ValidationError as error:
        return refuse("bad_identity", error.messages[0])
    if tenant is None:
        return refuse("unknown_tenant")
    onboarding_password = ""
    if charger is not None and charger.security_profile == SecurityProfile.CERTIFICATE:
        # Profile 3 has no password: the verified certificate is the credential.
        problem = certificate_problem(charger, headers, proxied)
        if problem:
            return refuse(*problem)
    else:
        given = basic_credentials(headers)
        if given is None:
            return refuse("missing_credentials")
        user, password = given
        if user != identity:
            return refuse("identity_mismatch", f"basic auth user {user[:50]!r}")
        if charger is None:
            onboarding = tenant.accept_unknown_chargers and tenant.onboarding_password_hash
            if not onboarding or not hashing.check(password, tenant.onboarding_password_hash):
                return refuse("unknown_charger")
            onboarding_password = password
        elif not charger.password_hash or not hashing.check(password, charger.password_hash):
            return refuse("wrong_password")
    version = SUBPROTOCOLS[subprotocol]
    if registered and version != registered and version_change_policy(tenant) == "refuse":
        return refuse("version_change", f"registered on {registered}, offered {version}")
    return Admitted(
        tenant=tenant,
        charger=charger,
        version=version,
        subprotocol=subprotocol,
        remote_addr=charger_addr,
        onboarding_password=onboarding_password,
    )


class SocketRequest(TypedDict):
    """What `admit` reads of an upgrade request."""

    tenant_slug: str
    identity: str
    offered: list[str]
    headers: dict[bytes, bytes]
    remote_addr: str


def open_socket(
    *, channel_name: str, node: str, **request: Unpack[SocketRequest]
) -> Opened | Refused:
    """The OCPP door, in one trip to the database threads (a fleet reconnecting at once
    queues there): admit the socket (`admit`), open its tenant's scope, register an onboarding
    charger, and make this socket the charger's; or the refusal.

    The scope is activated here, once, for the socket's whole life: asgiref hands the context
    variables a sync function sets back to the task that awaited it, so the consumer's later
    work runs in it too (the consumer checks that it did).
    """
    admitted = admit(**request)
    if isinstance(admitted, Refused):
        return admitted
    scoping.activate(admitted.tenant)
    charger = admitted.charger or charger_register_pending(
        tenant=admitted.tenant,
        identity=request["identity"],
        password=admitted.onboarding_password,
    )
    previous, connection_event_id = connection_open(
        charger_id=charger.pk,
        channel_name=channel_name,
        node=node,
        remote_addr=admitted.remote_addr,
        version=admitted.version,
        known=admitted.charger,
    )
    return Opened(
        tenant=admitted.tenant,
        charger=charger,
        version=admitted.version,
        subprotocol=admitted.subprotocol,
        previous_channel=previous,
        connection_event_id=connection_event_id,
    )
