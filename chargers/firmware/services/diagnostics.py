"""Writes of diagnostics requests: the request and its one-time upload URL, the command that
asks the charger (1.6 GetDiagnostics, 2.0.1 GetLog), what the charger then says, the file that
arrives, and its deletion once its retention ends.

The upload token is derived from the row (a random nonce) and the SECRET_KEY, and only its hash
is stored: neither the database alone nor a task's message holds a usable token.
"""

from __future__ import annotations

import functools
import hashlib
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import get_random_string, salted_hmac
from django.utils.text import get_valid_filename

from chargers.firmware import links, planning
from chargers.firmware.events import DiagnosticsStateChanged
from chargers.firmware.models import DiagnosticsRequest, DiagnosticsState
from chargers.models import Charger, Command, CommandStatus
from chargers.ocpp import builders, readers
from chargers.selectors.chargers import charger_speaks_security_extension
from chargers.services.commands import UNFINISHED
from cpms.events import publish
from cpms.models import Tenant, User
from cpms.tenancy import scoping

HTTP_ONLY = (
    "This CSMS accepts diagnostics over HTTP(S) only (PUT or POST to the URL it issued); a "
    "charger that uploads only by FTP cannot deliver them here."
)
CHUNK = 1024 * 1024
FINAL = (DiagnosticsState.UPLOADED, DiagnosticsState.FAILED)
# The token hash's placeholder until the dispatch sets it (it carries the nonce).
PENDING = "pending:"


def max_upload_bytes() -> int:
    return int(getattr(settings, "DIAGNOSTICS_MAX_UPLOAD_BYTES", 50 * 1024 * 1024))


def retention() -> timedelta:
    return timedelta(days=int(getattr(settings, "DIAGNOSTICS_RETENTION_DAYS", 30)))


def token_lifetime() -> timedelta:
    return timedelta(hours=int(getattr(settings, "DIAGNOSTICS_UPLOAD_HOURS", 24)))


def _token(request: DiagnosticsRequest, nonce: str) -> str:
    return salted_hmac("chargers.firmware.upload", f"{request.pk}:{nonce}").hexdigest()


def _changed(request: DiagnosticsRequest) -> None:
    publish(DiagnosticsStateChanged.of(request))


@transaction.atomic
def diagnostics_request(
    *, charger: Charger, requested_by: User | None = None
) -> DiagnosticsRequest:
    """Record the request; the charger is asked once it is committed (a task)."""
    nonce = get_random_string(32)
    request = DiagnosticsRequest.objects.create(
        charger=charger,
        requested_by=requested_by,
        token_hash=f"{PENDING}{nonce}",
        token_expires_at=timezone.now() + token_lifetime(),
    )
    request.request_id = planning.request_id_for(request.pk, 0)
    # The nonce rides in the placeholder until the hash replaces it in the dispatch.
    request.save(update_fields=["request_id"])
    _changed(request)
    from chargers.firmware.tasks import dispatch_diagnostics

    tenant_id, request_pk = request.tenant_id, request.pk
    transaction.on_commit(
        lambda: dispatch_diagnostics.delay(tenant_id=tenant_id, request_id=request_pk)
    )
    return request


def diagnostics_dispatch(*, request_id: int) -> str | None:
    """Ask the charger to upload; once per request. Returns the upload URL sent (None: the
    request was dispatched already)."""
    with transaction.atomic():
        request = (
            DiagnosticsRequest.objects.select_for_update(of=("self",))
            .select_related("charger", "tenant")
            .filter(pk=request_id)
            .first()
        )
        if request is None or not request.token_hash.startswith(PENDING):
            return None
        token = _token(request, request.token_hash.removeprefix(PENDING))
        request.token_hash = links.token_hash(token)
        request.save(update_fields=["token_hash"])
    charger = request.charger
    location = links.upload_url(request.tenant.slug, token)
    built = builders.get_diagnostics(
        charger,
        location=location,
        request_id=request.request_id,
        # The security extension's GetLog names its request, as 2.0.1's does: its statuses
        # then find it even when the charger has several.
        security_extension=charger_speaks_security_extension(charger),
    )
    command = builders.perform(
        charger, built, wait=False, requested_by=request.requested_by, source="diagnostics"
    )
    with transaction.atomic():
        request = DiagnosticsRequest.objects.select_for_update().get(pk=request_id)
        request.command = command
        request.save(update_fields=["command"])
        command.refresh_from_db()
        if command.status not in UNFINISHED:
            _apply_command_outcome(request, command)
    return location


def _fail(request: DiagnosticsRequest, error: str, *, about_protocol: bool = False) -> None:
    """The request failed; `about_protocol`: plausibly because the charger uploads only by FTP,
    which the error then says the CSMS does not take (an offline charger, a timeout or one with
    nothing to upload is no FTP question, and the hint would mislead there)."""
    if about_protocol:
        error = f"{error} {HTTP_ONLY}"
    request.state = DiagnosticsState.FAILED
    request.error = error[:500]
    request.save(update_fields=["state", "error"])
    _changed(request)


def _apply_command_outcome(request: DiagnosticsRequest, command: Command) -> None:
    if request.state != DiagnosticsState.REQUESTED:
        return
    if command.status == CommandStatus.ANSWERED:
        accepted, reason = readers.operation_accepted(command.action, command.response)
        if accepted:
            request.state = DiagnosticsState.ACCEPTED
            request.save(update_fields=["state"])
            _changed(request)
        else:
            _fail(request, reason, about_protocol=_names_ftp(command.response))
        return
    label = CommandStatus(command.status).english
    _fail(
        request,
        f"The request did not reach the charger ({label}). {command.error}".strip(),
        about_protocol=_names_ftp(command.error),
    )


def _names_ftp(said: object) -> bool:
    """Whether the charger's reply or error names FTP (a CALLERROR such as "only ftp:// is
    supported", a vendor's status info)."""
    return "ftp" in str(said or "").lower()


@transaction.atomic
def diagnostics_command_finished(*, command_id: int) -> None:
    request = (
        DiagnosticsRequest.objects.select_for_update(of=("self",))
        .select_related("charger")
        .filter(command_id=command_id)
        .first()
    )
    if request is not None:
        _apply_command_outcome(request, Command.objects.get(pk=command_id))


@transaction.atomic
def diagnostics_progress(
    *, charger_id: int, stage: str, status: str, request_id: int | None = None
) -> None:
    """An upload status notification: 2.0.1 names its request; a 1.6 one is about the
    charger's latest open request."""
    requests = (
        DiagnosticsRequest.objects.select_for_update(of=("self",))
        .select_related("charger")
        .filter(charger_id=charger_id)
        .exclude(state__in=FINAL)
        .exclude(token_hash__startswith=PENDING)
    )
    if request_id is not None:
        requests = requests.filter(request_id=request_id)
    request = requests.order_by("-created_at", "-id").first()
    if request is None:
        return
    request.last_status = status[:40]
    if stage == "uploading" and request.state in (
        DiagnosticsState.REQUESTED,
        DiagnosticsState.ACCEPTED,
    ):
        request.state = DiagnosticsState.UPLOADING
        request.save(update_fields=["state", "last_status"])
        _changed(request)
    elif stage == "failed":
        _fail(
            request,
            f"The charger reported {status}; no file arrived.",
            about_protocol=status in readers.UPLOAD_PROTOCOL_FAILURES,
        )
    else:
        # "Uploaded" with no file here yet: the file is what counts, and it may be on its way.
        request.save(update_fields=["last_status"])


@dataclass
class UploadRefused(Exception):
    """Why an upload is refused, as the HTTP status and words the charger gets."""

    status: int
    message: str


def _read_limited(stream: IO[bytes], limit: int) -> tuple[IO[bytes], str, int]:
    spool = tempfile.SpooledTemporaryFile(max_size=CHUNK * 4)  # noqa: SIM115 (returned)
    digest, size = hashlib.sha256(), 0
    while chunk := stream.read(CHUNK):
        size += len(chunk)
        if size > limit:
            spool.close()
            raise UploadRefused(413, f"The file is larger than {limit} bytes.")
        digest.update(chunk)
        spool.write(chunk)
    spool.seek(0)
    return spool, digest.hexdigest(), size


def diagnostics_receive(
    *,
    tenant_slug: str,
    token: str,
    file_name: str,
    stream: IO[bytes],
    declared_size: int | None,
    now: datetime | None = None,
) -> DiagnosticsRequest:
    """Keep the file a charger uploaded with its one-time token. The token works only for the
    tenant in the URL and only once, before it expires. Raises UploadRefused."""
    now = now or timezone.now()
    tenant = Tenant.objects.filter(slug=tenant_slug, is_active=True).first()
    if tenant is None:
        raise UploadRefused(404, "Unknown upload URL.")
    limit = max_upload_bytes()
    if declared_size is not None and declared_size > limit:
        raise UploadRefused(413, f"The file is larger than {limit} bytes.")
    with scoping.scope(tenant):
        # Nothing is read for a URL that will be refused; the check is made again under the
        # row's lock once the file is here (read before any lock is held: a slow charger must
        # not hold a row for minutes).
        _usable(_by_token(token), now)
        spool, sha256, size = _read_limited(stream, limit)
        try:
            with transaction.atomic():
                return _keep(tenant, token, file_name, spool, sha256, size, now)
        finally:
            spool.close()


def _by_token(token: str, *, lock: bool = False) -> DiagnosticsRequest | None:
    requests = DiagnosticsRequest.objects.filter(token_hash=links.token_hash(token))
    if lock:
        requests = requests.select_for_update(of=("self",))
    return requests.select_related("charger").first()


def _usable(request: DiagnosticsRequest | None, now: datetime) -> DiagnosticsRequest:
    if request is None:
        raise UploadRefused(404, "Unknown upload URL.")
    if request.token_used_at is not None:
        raise UploadRefused(410, "This upload URL was used already.")
    if request.token_expires_at <= now:
        raise UploadRefused(410, "This upload URL has expired.")
    return request


def _keep(
    tenant: Tenant,
    token: str,
    file_name: str,
    spool: IO[bytes],
    sha256: str,
    size: int,
    now: datetime,
) -> DiagnosticsRequest:
    request = _usable(_by_token(token, lock=True), now)
    name = _safe_name(file_name)
    request.file_name = name[:200]
    request.file.save(f"{get_random_string(12)}-{name[:100]}", File(spool), save=False)
    request.size, request.sha256 = size, sha256
    request.token_used_at = request.uploaded_at = now
    request.keep_until = now + retention()
    request.state, request.error = DiagnosticsState.UPLOADED, ""
    request.save()
    _changed(request)
    return request


def _safe_name(file_name: str) -> str:
    """The charger's name for its file, fit for storage and a download's header."""
    try:
        return get_valid_filename(os.path.basename(file_name or ""))
    except SuspiciousFileOperation:  # empty, "." or ".."
        return "diagnostics.log"


def diagnostics_delete_expired(*, now: datetime | None = None) -> int:
    """Delete the files whose retention ended (in the caller's scope); the requests stay as
    the record that they were taken. Returns how many files were deleted."""
    now = now or timezone.now()
    deleted = 0
    for request in DiagnosticsRequest.objects.filter(keep_until__lt=now).exclude(file=""):
        with transaction.atomic():
            stored, storage = request.file.name, request.file.storage
            DiagnosticsRequest.objects.filter(pk=request.pk).update(
                file="",
                keep_until=None,
                error="The file was deleted at the end of its retention period.",
            )
            if stored:
                transaction.on_commit(functools.partial(storage.delete, stored))
            deleted += 1
    return deleted
