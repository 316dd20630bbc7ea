"""Who may open an OCPP socket: the checks made on the upgrade request, before accepting it.

Every refusal looks the same to the caller (HTTP 403) and is recorded for the operator with
who, when, from where and why.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from chargers import credentials, services
from chargers.models import Charger, OcppVersion
from cpms import scoping
from cpms.models import Tenant
from cpms.tenancy import tenant_for_ocpp

# Newest first: a charger offering several gets the newest, unless it is registered on one of
# them already.
SUBPROTOCOLS = {
    "ocpp2.1": OcppVersion.V21,
    "ocpp2.0.1": OcppVersion.V201,
    "ocpp1.6": OcppVersion.V16,
}
SUBPROTOCOL_OF = {version: name for name, version in SUBPROTOCOLS.items()}
# Tenant.settings["ocpp_version_change"]: what to do when a charger registered on one OCPP
# version connects with another. "follow" (the default) switches it; "refuse" refuses it.
VERSION_CHANGE_SETTING = "ocpp_version_change"
MAX_IDENTITY = 48


@dataclass
class Admitted:
    tenant: Tenant
    charger: Charger
    version: str
    subprotocol: str


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


def admit(
    *,
    tenant_slug: str,
    identity: str,
    offered: list[str],
    headers: dict[bytes, bytes],
    remote_addr: str,
) -> Admitted | None:
    """The charger allowed to open this socket, or None after recording why not."""
    tenant = tenant_for_ocpp(tenant_slug)

    def refuse(reason: str, detail: str = "") -> None:
        with scoping.unscoped():
            services.record_refusal(
                tenant=tenant,
                tenant_slug=tenant_slug,
                identity=identity,
                remote_addr=remote_addr,
                reason=reason,
                detail=detail,
            )
        return None

    if choose_subprotocol(offered) is None:
        return refuse("no_subprotocol", f"offered: {', '.join(offered)[:200] or 'none'}")
    if not identity or len(identity) > MAX_IDENTITY or ":" in identity:
        return refuse("bad_identity", "ids are 1 to 48 characters without ':'")
    if tenant is None:
        return refuse("unknown_tenant")
    given = basic_credentials(headers)
    if given is None:
        return refuse("missing_credentials")
    user, password = given
    if user != identity:
        return refuse("identity_mismatch", f"basic auth user {user[:50]!r}")
    with scoping.scope(tenant):
        charger = services.find_charger_for_handshake(tenant=tenant, identity=identity)
        if charger is None:
            onboarding = tenant.accept_unknown_chargers and tenant.onboarding_password_hash
            if not onboarding or not credentials.check(password, tenant.onboarding_password_hash):
                return refuse("unknown_charger")
            charger = services.register_pending_charger(
                tenant=tenant, identity=identity, password=password
            )
        elif not charger.password_hash or not credentials.check(password, charger.password_hash):
            return refuse("wrong_password")
    subprotocol = choose_subprotocol(offered, charger.ocpp_version)
    version = SUBPROTOCOLS[subprotocol]
    policy = tenant.settings.get(VERSION_CHANGE_SETTING, "follow")
    if charger.ocpp_version and version != charger.ocpp_version and policy == "refuse":
        return refuse("version_change", f"registered on {charger.ocpp_version}, offered {version}")
    return Admitted(tenant=tenant, charger=charger, version=version, subprotocol=subprotocol)
