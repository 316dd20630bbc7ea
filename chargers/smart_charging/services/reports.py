"""The charging profiles a charger reports it holds (2.0.1 K09: GetChargingProfiles answered by
ReportChargingProfiles messages), gathered per request until the charger has sent them all."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from chargers.models import Charger, Command
from chargers.ocpp.profiles import READ_PROFILES, profiles_request_id
from chargers.smart_charging.models import ProfilesReport
from chargers.smart_charging.schedules import HeldProfile

# How many of a charger's newest profile requests are looked through for a report's command.
REQUESTS_LOOKED_AT = 20


def _request(charger_id: int, request_id: int) -> Command | None:
    requests = Command.objects.filter(charger_id=charger_id, action=READ_PROFILES).order_by(
        "-created_at", "-pk"
    )[:REQUESTS_LOOKED_AT]
    return next((c for c in requests if profiles_request_id(c.payload) == request_id), None)


@transaction.atomic
def profiles_report_record(
    *,
    charger_id: int,
    request_id: int,
    profiles: list[HeldProfile],
    more: bool,
    now: datetime | None = None,
) -> ProfilesReport:
    """Add one report's profiles to the request's report; `more`: the charger said more
    reports of the request follow (tbc). A request id reused after its report was complete
    starts a new one."""
    now = now or timezone.now()
    report = (
        ProfilesReport.objects.select_for_update()
        .filter(charger_id=charger_id, request_id=request_id, complete=False)
        .first()
    )
    if report is None:
        charger = Charger.objects.get(pk=charger_id)
        report = ProfilesReport(
            tenant_id=charger.tenant_id,
            charger=charger,
            request_id=request_id,
            command=_request(charger_id, request_id),
            started_at=now,
        )
    report.profiles = [*report.profiles, *(profile.as_json() for profile in profiles)]
    report.parts += 1
    report.updated_at = now
    report.complete = not more
    report.save()
    return report
