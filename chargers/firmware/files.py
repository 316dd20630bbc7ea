"""The two URLs chargers call, with no login: the firmware download (a signed, expiring link
per charger and campaign target, with byte ranges for downloaders that resume) and the
diagnostics upload (a one-time token, PUT or POST). Anything not exactly right is a 404, the
same for a forged link as for another tenant's."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import IO, cast

from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from chargers.firmware import links
from chargers.firmware.models import IN_FLIGHT, CampaignTarget, FirmwareImage
from chargers.firmware.services.diagnostics import UploadRefused, diagnostics_receive
from cpms.models import Tenant
from cpms.tenancy import scoping

RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK = 64 * 1024


class Unsatisfiable(Exception):
    """A range that starts past the end of the file (416)."""


def byte_range(header: str, size: int) -> tuple[int, int] | None:
    """The (first, last) byte of a single-range `Range` header, None when there is none (or
    it is not one we serve: several ranges, another unit; the whole file is then the answer,
    as RFC 9110 allows). Raises Unsatisfiable when it cannot be satisfied."""
    found = RANGE.match(header.strip()) if header else None
    if not found or found.group(1) == found.group(2) == "":
        return None
    first_text, last_text = found.groups()
    if first_text == "":
        length = int(last_text)
        if length == 0 or size == 0:
            raise Unsatisfiable
        return max(0, size - length), size - 1
    first = int(first_text)
    last = min(int(last_text), size - 1) if last_text else size - 1
    if first >= size or first > last:
        raise Unsatisfiable
    return first, last


def _stream(handle: IO[bytes], first: int, length: int) -> Iterator[bytes]:
    try:
        handle.seek(first)
        left = length
        while left > 0 and (chunk := handle.read(min(CHUNK, left))):
            left -= len(chunk)
            yield chunk
    finally:
        handle.close()


def _granted_image(token: str) -> FirmwareImage:
    grant = links.read_download_token(token)
    if grant is None:
        raise Http404
    tenant = Tenant.objects.filter(pk=grant.tenant_id, is_active=True).first()
    if tenant is None:
        raise Http404
    with scoping.scope(tenant):
        target = (
            CampaignTarget.objects.select_related("campaign__image")
            .filter(pk=grant.target_id, charger_id=grant.charger_id)
            # The link lives as long as the charger's update: once it ended (updated, failed,
            # cancelled, or waiting for its next attempt) it serves nothing.
            .filter(state__in=IN_FLIGHT)
            .first()
        )
        if target is None or target.campaign.image_id != grant.image_id:
            raise Http404
        image = target.campaign.image
    if not image.file:
        raise Http404
    return image


@require_http_methods(["GET", "HEAD"])
def firmware_download(request: HttpRequest, token: str, file_name: str) -> HttpResponseBase:
    image = _granted_image(token)
    size = image.file.size
    try:
        wanted = byte_range(request.headers.get("Range", ""), size)
    except Unsatisfiable:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        response["Accept-Ranges"] = "bytes"
        return response
    headers = {
        "Accept-Ranges": "bytes",
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
    }
    if image.sha256:
        headers["Digest"] = f"sha-256={image.sha256}"
    if wanted is None:
        response_whole = FileResponse(
            image.file.open("rb"), as_attachment=True, filename=file_name, headers=headers
        )
        return response_whole
    first, last = wanted
    length = last - first + 1
    partial = StreamingHttpResponse(
        _stream(image.file.open("rb"), first, length),
        status=206,
        content_type="application/octet-stream",
        headers=headers,
    )
    partial["Content-Range"] = f"bytes {first}-{last}/{size}"
    partial["Content-Length"] = str(length)
    return partial


@csrf_exempt
@require_http_methods(["PUT", "POST"])
def diagnostics_upload(
    request: HttpRequest, tenant: str, token: str, file_name: str = ""
) -> HttpResponse:
    uploaded = request.FILES.get(next(iter(request.FILES), "")) if request.FILES else None
    declared = request.headers.get("Content-Length")
    stream: IO[bytes]
    if uploaded is not None:
        stream, name, size = uploaded, uploaded.name or file_name, uploaded.size
    else:
        # The request is the body's stream (Django reads it on demand).
        stream, name = cast(IO[bytes], request), file_name or _disposition_name(request)
        size = int(declared) if declared and declared.isdigit() else None
    try:
        diagnostics_receive(
            tenant_slug=tenant,
            token=token,
            file_name=name or "",
            stream=stream,
            declared_size=size,
        )
    except UploadRefused as refused:
        return HttpResponse(refused.message, status=refused.status, content_type="text/plain")
    return HttpResponse("Stored.\n", status=201, content_type="text/plain")


def _disposition_name(request: HttpRequest) -> str:
    found = re.search(r'filename="?([^";]+)"?', request.headers.get("Content-Disposition", ""))
    return found.group(1) if found else request.headers.get("X-Filename", "")
