"""A restart someone asked for is not an incident: after a reset the charger accepted, a firmware
install or a configuration change that needs a restart, the charger's report of its restart
opens no alert, and its boot does not count towards "rebooted N times"."""

from datetime import timedelta

import pytest
from django.utils import timezone

from chargers.alerts import restarts, rules
from chargers.alerts.models import Alert, AlertKind
from chargers.events import ChargerEventRecorded
from chargers.models import ChargerBoot, ChargerEvent, Command, CommandStatus, EventKind
from chargers.ocpp import readers
from chargers.services.reports import charger_event_record
from cpms.tenancy import scoping
from tests.chargers.factories import make_fleet


@pytest.fixture
def charger(tenant_a, site_a):
    with scoping.scope(tenant_a):
        rows = make_fleet(site_a)
        rows["alert"].delete()
        return rows["charger"]


def answered(charger, action, payload, response, ago=timedelta(minutes=2)):
    at = timezone.now() - ago
    return Command.objects.create(
        charger=charger,
        action=action,
        payload=payload,
        status=CommandStatus.ANSWERED,
        response=response,
        sent_at=at,
        completed_at=at,
    )


def booted(charger, ago=timedelta(minutes=1)):
    ChargerBoot.objects.create(
        charger=charger, at=timezone.now() - ago, answered="Accepted", reported={}
    )


def reports(charger, kind):
    """The charger's security event as the OCPP handlers record it, then the rules' turn."""
    event = charger_event_record(
        charger_id=charger.pk,
        kind=EventKind.SECURITY_EVENT,
        summary=kind,
        critical=True,
        at=timezone.now(),
    )
    rules.on_event(ChargerEventRecorded.of(event))


def security_alerts():
    return list(Alert.objects.filter(kind=AlertKind.SECURITY_EVENT))


def test_a_restart_after_a_reset_the_charger_accepted_opens_no_alert(tenant_a, charger):
    with scoping.scope(tenant_a):
        answered(charger, "Reset", {"type": "Soft"}, {"status": "Accepted"})
        booted(charger)
        reports(charger, "ResetOrReboot")
        assert security_alerts() == []


def test_a_restart_nobody_asked_for_opens_a_critical_alert(tenant_a, charger):
    with scoping.scope(tenant_a):
        booted(charger)
        reports(charger, "ResetOrReboot")
        (alert,) = security_alerts()
    assert alert.severity == "critical" and "ResetOrReboot" in alert.title


def test_a_reset_the_charger_rejected_explains_no_restart(tenant_a, charger):
    with scoping.scope(tenant_a):
        answered(charger, "Reset", {"type": "Hard"}, {"status": "Rejected"})
        booted(charger)
        reports(charger, "ResetOrReboot")
        assert len(security_alerts()) == 1


def test_a_reset_explains_only_the_first_restart_after_it(tenant_a, charger):
    with scoping.scope(tenant_a):
        answered(charger, "Reset", {"type": "Soft"}, {"status": "Accepted"}, ago=timedelta(hours=1))
        booted(charger, ago=timedelta(minutes=50))
        booted(charger, ago=timedelta(minutes=1))
        reports(charger, "ResetOrReboot")
        assert len(security_alerts()) == 1


def test_a_reset_long_ago_explains_nothing(tenant_a, charger):
    with scoping.scope(tenant_a):
        long_ago = restarts.EXPECTED_WITHIN + timedelta(minutes=5)
        answered(charger, "Reset", {"type": "Soft"}, {"status": "Accepted"}, ago=long_ago)
        reports(charger, "ResetOrReboot")
        assert len(security_alerts()) == 1


@pytest.mark.parametrize(
    "action,payload,response",
    [
        ("ChangeConfiguration", {"key": "X", "value": "1"}, {"status": "RebootRequired"}),
        (
            "SetVariables",
            {"setVariableData": [{"component": {"name": "C"}, "variable": {"name": "V"}}]},
            {"setVariableResult": [{"attributeStatus": "RebootRequired"}]},
        ),
    ],
    ids=["1.6", "2.0.1"],
)
def test_a_restart_after_a_change_that_needs_one_opens_no_alert(
    tenant_a, charger, action, payload, response
):
    with scoping.scope(tenant_a):
        answered(charger, action, payload, response)
        booted(charger)
        reports(charger, "StartupOfTheDevice")
        assert security_alerts() == []


def test_new_firmware_after_an_install_is_expected_but_not_after_a_mere_reset(tenant_a, charger):
    with scoping.scope(tenant_a):
        answered(charger, "Reset", {"type": "Soft"}, {"status": "Accepted"})
        reports(charger, "FirmwareUpdated")
        assert len(security_alerts()) == 1
        Alert.objects.all().delete()
        ChargerEvent.objects.create(
            charger=charger,
            kind=EventKind.FIRMWARE_STATUS,
            summary="Installing",
            at=timezone.now() - timedelta(minutes=3),
        )
        booted(charger)
        reports(charger, "FirmwareUpdated")
        reports(charger, "ResetOrReboot")
        assert security_alerts() == []


def test_restarts_someone_asked_for_do_not_count_as_repeated_reboots(tenant_a, charger):
    with scoping.scope(tenant_a):
        for minutes in (30, 20, 10):
            answered(
                charger,
                "Reset",
                {"type": "Soft"},
                {"status": "Accepted"},
                ago=timedelta(minutes=minutes + 1),
            )
            booted(charger, ago=timedelta(minutes=minutes))
        assert rules.boots_in_window(charger.pk)[0] == 0
        # One more, unasked: one boot counts, not four.
        booted(charger, ago=timedelta(minutes=1))
        assert rules.boots_in_window(charger.pk)[0] == 1
        rules.evaluate_tenant()
        assert not Alert.objects.filter(kind=AlertKind.REPEATED_REBOOTS).exists()


@pytest.mark.parametrize(
    "action,reply,why",
    [
        ("Reset", {"status": "Accepted"}, readers.RESTART),
        ("Reset", {"status": "Scheduled"}, readers.RESTART),
        ("Reset", {"status": "Rejected"}, None),
        ("UpdateFirmware", {}, readers.FIRMWARE),
        ("UpdateFirmware", {"status": "Rejected"}, None),
        ("SignedUpdateFirmware", {"status": "Accepted"}, readers.FIRMWARE),
        ("ChangeConfiguration", {"status": "Accepted"}, None),
        ("ChangeConfiguration", {"status": "RebootRequired"}, readers.RESTART),
        ("SetVariables", {"setVariableResult": [{"attributeStatus": "Accepted"}]}, None),
        ("SetVariables", {"setVariableResult": [{"attributeStatus": "RebootRequired"}]}, "restart"),
        ("ClearCache", {"status": "Accepted"}, None),
        ("GetConfiguration", None, None),
    ],
)
def test_which_answered_commands_make_a_charger_restart(action, reply, why):
    assert readers.restart_asked(action, reply) == why
