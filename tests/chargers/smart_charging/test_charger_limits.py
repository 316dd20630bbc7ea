"""A charger's charging limits in the dashboard and the API: the profiles it lists beside those
the control loop sent (a difference stands out), its composite schedule, the commands that ask
for them; and who may see and send what."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from chargers.models import Charger, Command, CommandStatus
from chargers.smart_charging.models import ProfileKind, ProfilesReport, SentProfile
from chargers.smart_charging.schedules import HeldProfile, Period, Schedule
from cpms.models import ApiKeyRole
from cpms.tenancy import scoping

# Commands go through asgiref's thread, which needs committed rows to see.
pytestmark = pytest.mark.django_db(transaction=True)


def page(name, slug="tenant-a", **kwargs):
    return reverse(name, kwargs={"tenant_slug": slug, **kwargs})


def held(evse_id, kind, purpose, profile_id, limit, start, source="CSO"):
    schedule = Schedule("A", (Period(0, limit),), start=start)
    return HeldProfile(evse_id, source, profile_id, 0, kind, purpose, "", schedule).as_json()


@pytest.fixture
def charger(tenant_a, site_a):
    """A 2.0.1 charger that was sent a session limit (16 A) and a fallback (8 A) and listed
    its profiles since: the session limit at 10 A, no fallback, and a local manager's cap."""
    now = timezone.now()
    sent_at = now - timedelta(minutes=5)
    with scoping.scope(tenant_a):
        charger = Charger.objects.create(identity="CP-L", site=site_a, ocpp_version="2.0.1")
        for evse_id, kind, limit in ((1, ProfileKind.SESSION, 16), (0, ProfileKind.FALLBACK, 8)):
            SentProfile.objects.create(
                charger=charger,
                evse_id=evse_id,
                kind=kind,
                periods=[[sent_at.isoformat(), limit]],
                limit_a=Decimal(limit),
                status="accepted",
                sent_at=sent_at,
            )
        ProfilesReport.objects.create(
            charger=charger,
            request_id=77,
            started_at=now,
            updated_at=now,
            complete=True,
            parts=2,
            profiles=[
                held(1, "session", "TxProfile", 14001, 10.0, sent_at),
                held(0, "", "ChargingStationExternalConstraints", 9000, 20.0, sent_at, "EMS"),
            ],
        )
        Command.objects.create(
            charger=charger,
            action="GetCompositeSchedule",
            payload={"evseId": 1, "duration": 600},
            status=CommandStatus.ANSWERED,
            completed_at=now,
            response={
                "status": "Accepted",
                "schedule": {
                    "evseId": 1,
                    "duration": 600,
                    "scheduleStart": now.isoformat(),
                    "chargingRateUnit": "W",
                    "chargingSchedulePeriod": [
                        {"startPeriod": 0, "limit": 6900.0, "numberPhases": 3},
                        {"startPeriod": 300, "limit": 4140.0},
                    ],
                },
            },
        )
    return charger


def test_a_viewer_sees_what_the_charger_holds_beside_what_was_sent(client, charger, bob):
    client.force_login(bob)
    body = client.get(page("charger_detail", pk=charger.pk)).content.decode()
    section = body.split("<h2>Charging limits")[1]
    # By EVSE, then the profiles the loop did not send.
    fallback, session, local = section.split("data-profile-agrees=")[1:]
    assert session.startswith('"no"') and "the charger holds 10 A; sent 16 A" in session
    assert fallback.startswith('"no"') and "not on the charger" in fallback
    assert local.startswith('"unknown"') and "#9000 (EMS" in local
    assert "not sent by the control loop" in local
    composite = section.split('data-composite="1"')[1].split("</table>")[0]
    assert '<td class="num">300</td><td class="num">4140.0</td><td>W</td>' in composite
    assert "Composite schedule</button>" not in body  # a viewer gets no command buttons


def test_an_operator_asks_for_the_composite_schedule_of_a_16_charger(
    client, tenant_a, site_a, olga
):
    with scoping.scope(tenant_a):
        old = Charger.objects.create(identity="CP-16", site=site_a, ocpp_version="1.6")
    client.force_login(olga)
    data = {"action": "composite_schedule", "evse_id": 2, "duration": 900, "unit": "W"}
    response = client.post(page("charger_command", pk=old.pk), data, follow=True)
    assert b"GetCompositeSchedule: Charger offline" in response.content
    with scoping.scope(tenant_a):
        command = Command.objects.get()
    assert command.payload == {"connectorId": 2, "duration": 900, "chargingRateUnit": "W"}


def test_a_16_charger_cannot_be_asked_to_list_its_profiles(client, tenant_a, site_a, olga):
    with scoping.scope(tenant_a):
        old = Charger.objects.create(identity="CP-16", site=site_a, ocpp_version="1.6")
    client.force_login(olga)
    response = client.post(
        page("charger_command", pk=old.pk), {"action": "charging_profiles"}, follow=True
    )
    assert b"A 1.6 charger cannot list its profiles" in response.content
    with scoping.scope(tenant_a):
        assert not Command.objects.exists()


@pytest.mark.parametrize("action", ["composite_schedule", "charging_profiles"])
def test_bob_the_viewer_cannot_ask(client, tenant_a, charger, bob, action):
    client.force_login(bob)
    response = client.post(page("charger_command", pk=charger.pk), {"action": action})
    assert response.status_code == 403
    with scoping.scope(tenant_a):
        assert Command.objects.count() == 1  # the fixture's


def test_charlie_gets_404_for_the_charger_its_commands_and_its_reports(
    client, api, keys, tenant_a, charger, charlie
):
    client.force_login(charlie)
    for name in ("charger_detail", "charger_command"):
        url = reverse(name, kwargs={"tenant_slug": "tenant-a", "pk": charger.pk})
        assert client.get(url).status_code == 404
    with scoping.scope(tenant_a):
        report = ProfilesReport.objects.get()
    stranger = api(keys["charlie"])
    assert stranger.get(f"/api/v1/charging-profile-reports/{report.pk}/").status_code == 404
    assert stranger.get("/api/v1/charging-profile-reports/").json()["results"] == []
    asked = stranger.post(
        "/api/v1/commands/",
        {"charger": charger.pk, "action": "get_composite_schedule", "arguments": {}},
        format="json",
    )
    assert asked.status_code == 400  # no such charger in tenant B
    with scoping.scope(tenant_a):
        assert Command.objects.count() == 1


@pytest.mark.parametrize(
    ("version", "payload"),
    [
        ("1.6", {"connectorId": 1, "duration": 600, "chargingRateUnit": "A"}),
        ("2.0.1", {"evseId": 1, "duration": 600, "chargingRateUnit": "A"}),
    ],
)
def test_an_integrator_asks_a_charger_of_either_version_for_its_composite_schedule(
    api, keys, tenant_a, site_a, version, payload
):
    with scoping.scope(tenant_a):
        target = Charger.objects.create(identity="CP-X", site=site_a, ocpp_version=version)
    arguments = {"evse_id": 1, "duration_s": 600, "unit": "A"}
    body = {"charger": target.pk, "action": "get_composite_schedule", "arguments": arguments}
    read_only = api(keys[ApiKeyRole.READ_ONLY]).post("/api/v1/commands/", body, format="json")
    assert read_only.status_code == 403
    response = api(keys[ApiKeyRole.OPERATOR]).post("/api/v1/commands/", body, format="json")
    assert response.status_code == 201  # offline: known at once
    assert response.json()["payload"] == payload


def test_the_api_lists_a_chargers_reported_profiles(api, keys, charger):
    listed = api(keys[ApiKeyRole.READ_ONLY]).get(
        "/api/v1/charging-profile-reports/", {"charger": charger.pk}
    )
    (report,) = listed.json()["results"]
    assert (report["request_id"], report["complete"], report["parts"]) == (77, True, 2)
    assert report["profiles"][0]["schedule"]["periods"] == [[0, 10.0, None]]


def test_a_charger_without_limits_says_how_to_get_them(client, tenant_a, site_a, olga):
    with scoping.scope(tenant_a):
        bare = Charger.objects.create(identity="CP-0", site=site_a, ocpp_version="2.0.1")
    client.force_login(olga)
    body = client.get(page("charger_detail", pk=bare.pk)).content.decode()
    assert "No composite schedule yet" in body and "List charging profiles</button>" in body


def test_a_sessions_page_shows_what_its_ev_said_it_needs(client, tenant_a, site_a, bob):
    from chargers.models import ChargingSession
    from chargers.smart_charging.models import EvChargingNeeds, NeedsAnswer

    with scoping.scope(tenant_a):
        charger = Charger.objects.create(identity="CP-N", site=site_a, ocpp_version="2.0.1")
        session, other = (
            ChargingSession.objects.create(
                charger=charger,
                site=site_a,
                evse_id=1,
                connector_id=1,
                transaction_id=tx,
                started_at=timezone.now(),
            )
            for tx in ("tx-n", "tx-o")
        )
        EvChargingNeeds.objects.create(
            charger=charger,
            evse_id=1,
            session=session,
            received_at=timezone.now(),
            transfer="AC_three_phase",
            energy_wh=31234,
            answer=NeedsAnswer.SCHEDULE,
        )
    client.force_login(bob)
    body = client.get(page("session_detail", pk=session.pk)).content.decode()
    assert "data-ev-needs" in body and "31234" in body
    other_body = client.get(page("session_detail", pk=other.pk)).content.decode()
    assert "data-ev-needs" not in other_body
