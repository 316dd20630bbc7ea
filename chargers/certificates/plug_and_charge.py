"""Plug & Charge behind two small interfaces, and what the OCPP layer asks of them.

`ContractProvider` answers an EV's certificate request (ISO 15118 CertificateInstallation or
CertificateUpdate, as base64 EXI that the CSMS forwards untouched): the built-in test V2G PKI
(`LocalProvider`, which reads the documented stand-in envelope of `v2g.LOCAL_FORMAT`) or a
remote provider by URL and credentials (`RemoteProvider`, a Hubject-style HTTP service).
`OcspSource` answers for a certificate's revocation status: the built-in responder for the
tenant's PKI, or the responder URL the certificate names. Sources that need the database run
on the sockets' database threads (`db`); those that call out over HTTP run in a thread of
their own, bounded in time, so a slow provider never holds a database thread.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import dataclasses
import ipaddress
import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from chargers.certificates import crypto, v2g
from chargers.certificates.models import (
    ContractCertificate,
    EvRequestStatus,
    OcspMode,
    ProviderKind,
    V2gAuthority,
)
from chargers.certificates.services import contracts
from chargers.certificates.services.pnc_settings import pnc_settings, remote_secret, trusted_roots
from chargers.selectors.tokens import TokenInfo, id_token_verdict

# A Get15118EVCertificate's exiResponse is at most 5600 characters (OCPP 2.0.1).
MAX_EXI_RESPONSE = 5600
# What an OCSP responder that is not the built-in one gets (it is a plain HTTP call).
REMOTE_OCSP_TIMEOUT = 10.0
MAX_HTTP_BODY = 64 * 1024

# The socket's database runner (`CentralSystem.db`): a function -> its awaitable on the
# database threads, in the socket's tenant scope.
Runner = Callable[[Callable[..., Any]], Callable[..., Awaitable[Any]]]


class OutcallError(Exception):
    """An HTTP call out failed; the message says why, for the record."""


def address_problem(url: str) -> str:
    """Why we must not call `url`: not HTTP(S), or an internal address a charger or a tenant
    could otherwise make us probe (allowed with PNC_ALLOW_PRIVATE_ADDRESSES, for labs)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "not an http(s) URL"
    if settings.PNC_ALLOW_PRIVATE_ADDRESSES:
        return ""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, None)}
    except (OSError, UnicodeError):
        return f"{parts.hostname} does not resolve"
    for address in addresses:
        ip = ipaddress.ip_address(str(address).split("%")[0])
        if not ip.is_global or ip.is_multicast:
            return f"{parts.hostname} is an internal address"
    return ""


def http_post(url: str, body: bytes, *, content_type: str, timeout: float, auth: str = "") -> bytes:
    problem = address_problem(url)
    if problem:
        raise OutcallError(problem)
    request = urllib.request.Request(url, data=body, method="POST")  # noqa: S310 (checked above)
    request.add_header("Content-Type", content_type)
    if auth:
        request.add_header("Authorization", auth)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.read(MAX_HTTP_BODY + 1)[:MAX_HTTP_BODY]
    except urllib.error.HTTPError as error:
        raise OutcallError(f"HTTP {error.code} from the provider") from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        host = urllib.parse.urlsplit(url).hostname
        raise OutcallError(f"no answer from {host}: {reason}") from None


# --- Contract certificates ----------------------------------------------------------------------


@dataclass(frozen=True)
class ProviderAnswer:
    accepted: bool
    exi_response: str = ""
    reason: str = ""
    emaid: str = ""
    contract_id: int | None = None


class ContractProvider(Protocol):
    kind: str
    # True: runs on the database threads (it issues); False: in a thread of its own (HTTP).
    in_database: bool
    timeout: float

    def exchange(self, *, action: str, schema_version: str, exi_request: str) -> ProviderAnswer:
        """Answer an EV's certificate request (`action` install or update)."""
        ...


class LocalProvider:
    """The built-in test V2G PKI: issues a contract for the envelope's eMAID."""

    kind: str = ProviderKind.LOCAL
    in_database = True
    timeout = 10.0

    def __init__(self, *, charger_id: int) -> None:
        self.charger_id = charger_id

    def exchange(self, *, action: str, schema_version: str, exi_request: str) -> ProviderAnswer:
        try:
            asked = v2g.read_local_request(exi_request)
            issued = contracts.contract_issue(emaid=asked.emaid, charger_id=self.charger_id)
        except v2g.EnvelopeError as error:
            return ProviderAnswer(False, reason=str(error))
        except ValidationError as error:
            return ProviderAnswer(False, reason=" ".join(error.messages), emaid=asked.emaid)
        response = v2g.local_response(
            emaid=asked.emaid,
            chain=issued.chain,
            contract_key=issued.key,
            ev_public_key=asked.ev_public_key,
        )
        return ProviderAnswer(True, response, emaid=asked.emaid, contract_id=issued.contract.pk)


class RemoteProvider:
    """A contract-certificate service by URL: POST of JSON `{"action", "schema_version",
    "exi_request"}` (HTTP Basic with the username, else a Bearer token), answered with JSON
    `{"exi_response"}` (base64 EXI, returned to the charger untouched) or an HTTP error."""

    kind: str = ProviderKind.REMOTE
    in_database = False

    def __init__(self, *, url: str, username: str, secret: str, timeout: float) -> None:
        self.url, self.username, self.secret, self.timeout = url, username, secret, timeout

    def _auth(self) -> str:
        if self.username:
            pair = f"{self.username}:{self.secret}".encode()
            return "Basic " + base64.b64encode(pair).decode()
        return f"Bearer {self.secret}" if self.secret else ""

    def exchange(self, *, action: str, schema_version: str, exi_request: str) -> ProviderAnswer:
        body = json.dumps(
            {"action": action, "schema_version": schema_version, "exi_request": exi_request}
        ).encode()
        try:
            raw = http_post(
                self.url,
                body,
                content_type="application/json",
                timeout=self.timeout,
                auth=self._auth(),
            )
        except OutcallError as error:
            return ProviderAnswer(False, reason=str(error))
        try:
            exi = json.loads(raw)["exi_response"]
            base64.b64decode(exi, validate=True)
        except (ValueError, KeyError, TypeError, binascii.Error):
            return ProviderAnswer(False, reason="the provider's answer has no base64 exi_response")
        if not exi or len(exi) > MAX_EXI_RESPONSE:
            return ProviderAnswer(False, reason="the provider's exi_response is empty or too long")
        return ProviderAnswer(True, exi)


def contract_provider(*, charger_id: int) -> ContractProvider:
    """The tenant's provider, as its settings say."""
    current = pnc_settings()
    if current.provider == ProviderKind.REMOTE:
        return RemoteProvider(
            url=current.remote_url,
            username=current.remote_username,
            secret=remote_secret(current),
            timeout=float(current.remote_timeout),
        )
    return LocalProvider(charger_id=charger_id)


async def ev_certificate(
    db: Runner,
    *,
    charger_id: int,
    action: str,
    schema_version: str,
    exi_request: str,
    payload: dict[str, Any],
) -> ProviderAnswer:
    """M26/M28: forward an EV's certificate request to the tenant's provider and record the
    outcome (a request row and a charger event); a provider that fails or takes longer than
    its timeout gives a Failed with the reason kept."""
    provider: ContractProvider = await db(contract_provider)(charger_id=charger_id)
    asked = {"action": action, "schema_version": schema_version, "exi_request": exi_request}
    try:
        if provider.in_database:
            answer = await db(provider.exchange)(**asked)
        else:
            answer = await asyncio.wait_for(
                asyncio.to_thread(provider.exchange, **asked), provider.timeout + 1
            )
    except TimeoutError:
        answer = ProviderAnswer(False, reason=f"no answer within {provider.timeout:g} s")
    await db(contracts.ev_certificate_record)(
        charger_id=charger_id,
        action=action,
        provider=provider.kind,
        status=EvRequestStatus.ACCEPTED if answer.accepted else EvRequestStatus.FAILED,
        emaid=answer.emaid,
        reason=answer.reason,
        contract_id=answer.contract_id,
        payload=payload,
    )
    return answer


# --- OCSP ---------------------------------------------------------------------------------------


class OcspSource(Protocol):
    in_database: bool

    def status(self, ident: v2g.OcspId) -> v2g.OcspAnswer | None:
        """The responder's answer, or None when this source does not answer for it."""
        ...


class LocalResponder:
    """The built-in responder of the tenant's test V2G PKI."""

    in_database = True

    def status(self, ident: v2g.OcspId) -> v2g.OcspAnswer | None:
        return contracts.ocsp_local(ident)


class RemoteResponder:
    """The certificate's own responder: POST of the DER request to its responder URL."""

    in_database = False
    timeout = REMOTE_OCSP_TIMEOUT

    def status(self, ident: v2g.OcspId) -> v2g.OcspAnswer | None:
        if not ident.responder_url:
            return None
        try:
            der = http_post(
                ident.responder_url,
                ident.request_der(),
                content_type="application/ocsp-request",
                timeout=self.timeout,
            )
        except OutcallError as error:
            raise OcspFailure(str(error)) from None
        try:
            return v2g.ocsp_read(der, ident=ident)
        except ValueError as error:
            raise OcspFailure(f"the responder's answer does not parse: {error}") from None


class OcspFailure(Exception):
    """No usable OCSP answer; the message says why."""


def ocsp_sources() -> list[OcspSource]:
    sources: list[OcspSource] = [LocalResponder()]
    if pnc_settings().ocsp_mode == OcspMode.REMOTE:
        sources.append(RemoteResponder())
    return sources


@dataclass(frozen=True)
class StatusAnswer:
    answer: v2g.OcspAnswer | None
    reason: str = ""
    # The certificate is of no PKI we may ask about (another tenant's, unknown).
    foreign: bool = False


async def certificate_status(db: Runner, *, ident: v2g.OcspId) -> StatusAnswer:
    """M24: the OCSP response for a certificate: from the cache until its next update, else
    from the first source that answers for it (then cached)."""
    cached = await db(contracts.ocsp_cached)(ident=ident)
    if cached is not None:
        return StatusAnswer(cached)
    for source in await db(ocsp_sources)():
        try:
            if source.in_database:
                answer = await db(source.status)(ident)
            else:
                answer = await asyncio.wait_for(
                    asyncio.to_thread(source.status, ident), REMOTE_OCSP_TIMEOUT + 1
                )
        except OcspFailure as error:
            return StatusAnswer(None, str(error))
        except TimeoutError:
            return StatusAnswer(None, "the OCSP responder did not answer in time")
        if answer is not None:
            if not answer.cert_status:
                return StatusAnswer(None, "the OCSP responder refused the request")
            await db(contracts.ocsp_cache_store)(ident=ident, answer=answer)
            return StatusAnswer(answer)
    return StatusAnswer(
        None, "not a certificate of this tenant's V2G PKI (remote OCSP is off)", foreign=True
    )


# --- Authorize with a contract ------------------------------------------------------------------


@dataclass(frozen=True)
class ContractVerdict:
    status: v2g.ContractStatus
    token: TokenInfo
    reason: str = ""
    emaid: str = ""


def _chain_verdict(chain_pem: str) -> tuple[v2g.ChainVerdict, str]:
    """The chain checked against the tenant's V2G roots (the built-in one, and the trusted)."""
    try:
        chain = v2g.load_chain(chain_pem)
        roots = trusted_roots(pnc_settings())
    except crypto.CertificateError as error:
        return v2g.ChainVerdict(v2g.ContractStatus.CHAIN_ERROR, str(error)), ""
    authority = V2gAuthority.objects.first()
    if authority is not None:
        roots.append(crypto.load_certificates(authority.root_pem)[0])
    verdict = v2g.verify_chain(chain, roots=roots, now=timezone.now())
    return verdict, _responder_url(verdict.leaf)


def _responder_url(leaf: crypto.x509.Certificate | None) -> str:
    if leaf is None:
        return ""
    try:
        access = leaf.extensions.get_extension_for_class(crypto.x509.AuthorityInformationAccess)
    except crypto.x509.ExtensionNotFound:
        return ""
    for description in access.value:
        if description.access_method == crypto.x509.oid.AuthorityInformationAccessOID.OCSP:
            return str(description.access_location.value)
    return ""


def _known_contract(ident: v2g.OcspId) -> ContractCertificate | None:
    return ContractCertificate.objects.filter(
        issuer_key_hash=ident.issuer_key_hash, serial=ident.serial
    ).first()


def _refused(status: v2g.ContractStatus, reason: str, emaid: str = "") -> ContractVerdict:
    return ContractVerdict(status, TokenInfo(status="Invalid"), reason, emaid)


async def contract_authorize(
    db: Runner, *, emaid: str, chain_pem: str | None, hash_data: list[v2g.OcspId]
) -> ContractVerdict:
    """C50-C52: a contract presented as its PEM chain and/or its OCSP hash data is valid (the
    chain leads to a trusted V2G root, nothing in it expired), not revoked (OCSP, the leaf
    first) and maps to one of the tenant's tokens (its eMAID); an operator's blocking of that
    token cancels the contract."""
    idents = list(hash_data)
    if chain_pem:
        chain, url = await db(_chain_verdict)(chain_pem)
        if chain.status != v2g.ContractStatus.ACCEPTED:
            return _refused(chain.status, chain.problem, chain.emaid)
        if chain.leaf is None or chain.issuer is None:  # an accepted chain has both
            return _refused(v2g.ContractStatus.CHAIN_ERROR, "no leaf", chain.emaid)
        leaf_ident = v2g.OcspId.of(chain.leaf, chain.issuer)
        same = (leaf_ident.issuer_key_hash, leaf_ident.serial)
        given = [i for i in idents if (i.issuer_key_hash, i.serial) == same]
        others = [i for i in idents if (i.issuer_key_hash, i.serial) != same]
        # The certificate's own responder URL, else the one the charger gave with its hash data.
        url = url or (given[0].responder_url if given else "")
        idents = [dataclasses.replace(leaf_ident, responder_url=url), *others]
        if emaid and emaid.upper() != chain.emaid.upper():
            return _refused(
                v2g.ContractStatus.CHAIN_ERROR, "the certificate is another eMAID's", chain.emaid
            )
        emaid = chain.emaid
    if not idents:
        return _refused(v2g.ContractStatus.NO_CERTIFICATE, "neither certificate nor hash data")
    known = await db(_known_contract)(idents[0])
    if known is not None:
        if known.emaid.upper() != emaid.upper():
            return _refused(
                v2g.ContractStatus.CHAIN_ERROR, "the certificate is another eMAID's", emaid
            )
        if known.not_after <= timezone.now():
            return _refused(v2g.ContractStatus.EXPIRED, "the contract has expired", emaid)
    for position, ident in enumerate(idents):
        found = await certificate_status(db, ident=ident)
        if found.answer is None:
            if position:  # a sub-CA nobody answers for: the leaf's answer decides
                continue
            refusal = (
                v2g.ContractStatus.CHAIN_ERROR
                if found.foreign
                else v2g.ContractStatus.NO_CERTIFICATE
            )
            return _refused(refusal, found.reason, emaid)
        if found.answer.cert_status == "revoked":
            return _refused(v2g.ContractStatus.REVOKED, "revoked (OCSP)", emaid)
        if position == 0 and found.answer.cert_status != "good":
            return _refused(
                v2g.ContractStatus.NO_CERTIFICATE, "the responder does not know it", emaid
            )
    token = await db(id_token_verdict)(id_tag=emaid)
    if token.status == "Blocked":
        return ContractVerdict(
            v2g.ContractStatus.CONTRACT_CANCELLED, token, "the eMAID's token is blocked", emaid
        )
    return ContractVerdict(v2g.ContractStatus.ACCEPTED, token, "", emaid)
