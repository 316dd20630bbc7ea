"""Renewal over real OCPP: a charger whose certificate ends in a few days is asked for a new one
by the daily job (2.0.1 TriggerMessage, 1.6 ExtendedTriggerMessage); the simulator makes a new
key and CSR, and the new certificate replaces the old one. Alerts follow the certificate."""

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from chargers.alerts.models import Alert, AlertKind
from chargers.alerts.rules import evaluate_tenant
from chargers.certificates import tasks
from chargers.certificates.models import CertificateUse, IssuedCertificate, IssuedState
from chargers.certificates.services.renewal import RENEWAL_SOURCE
from chargers.models import Command
from cpms.tenancy import scoping
from tests.aio import eventually, in_a
from tests.chargers.certificates.pki import register, simulated
from tests.chargers.simulator.helpers import running
from tests.helpers import eager_tasks

pytestmark = pytest.mark.django_db(transaction=True)


def installed_count(tenant, identity, count):
    async def check():
        return (
            await in_a(
                tenant,
                lambda: IssuedCertificate.objects.filter(
                    charger__identity=identity,
                    state__in=(IssuedState.INSTALLED, IssuedState.SUPERSEDED),
                ).count(),
            )
            >= count
        )

    return check


@sync_to_async
def ends_in(tenant, identity, days):
    with scoping.scope(tenant):
        IssuedCertificate.objects.filter(charger__identity=identity).update(
            not_after=timezone.now() + timedelta(days=days)
        )


@sync_to_async
def alerts(tenant):
    with scoping.scope(tenant):
        evaluate_tenant()
        return {(a.kind, a.resolved_at is None) for a in Alert.objects.all()}


@pytest.mark.parametrize("version", ["2.0.1", "1.6"])
async def test_a_certificate_days_from_expiry_is_renewed_by_the_daily_job(
    ocpp_server_in_process, tenant_a, version
):
    await register(tenant_a, "SIM-RENEW")
    charger = simulated(ocpp_server_in_process, tenant_a, "SIM-RENEW", version=version)
    with eager_tasks():
        async with running(charger):
            await charger.sign_certificate()
            await eventually(installed_count(tenant_a, "SIM-RENEW", 1), what="the first")
            first_key = charger.certificates.keys["ChargingStationCertificate"]
            await ends_in(tenant_a, "SIM-RENEW", 3)
            assert await alerts(tenant_a) == {(AlertKind.CERTIFICATE_EXPIRING, True)}

            await sync_to_async(tasks.renew_due.delay)()
            await eventually(installed_count(tenant_a, "SIM-RENEW", 2), what="the renewal")

            assert await alerts(tenant_a) == {(AlertKind.CERTIFICATE_EXPIRING, False)}

    rows = await in_a(
        tenant_a, lambda: list(IssuedCertificate.objects.order_by("created_at").values("state"))
    )
    assert [r["state"] for r in rows] == [IssuedState.SUPERSEDED, IssuedState.INSTALLED]
    assert charger.certificates.keys["ChargingStationCertificate"] is not first_key
    leaf = charger.certificates.own_certificate()
    assert leaf.not_valid_after_utc > timezone.now() + timedelta(days=300)


async def test_a_certificate_past_its_end_raises_an_expired_alert(ocpp_server_in_process, tenant_a):
    await register(tenant_a, "SIM-OLD")
    charger = simulated(ocpp_server_in_process, tenant_a, "SIM-OLD")
    with eager_tasks():
        async with running(charger):
            await charger.sign_certificate()
            await eventually(installed_count(tenant_a, "SIM-OLD", 1), what="the certificate")
    await ends_in(tenant_a, "SIM-OLD", -1)

    assert await alerts(tenant_a) == {(AlertKind.CERTIFICATE_EXPIRED, True)}
    alert = await in_a(tenant_a, lambda: Alert.objects.get())
    assert alert.title.startswith("SIM-OLD's certificate expired")


async def test_a_v2g_certificate_days_from_expiry_is_renewed_on_its_own(
    ocpp_server_in_process, tenant_a
):
    await register(tenant_a, "SIM-SECC")
    charger = simulated(ocpp_server_in_process, tenant_a, "SIM-SECC")
    with eager_tasks():
        async with running(charger):
            await charger.sign_certificate("ChargingStationCertificate")
            await eventually(installed_count(tenant_a, "SIM-SECC", 1), what="its TLS one")
            await charger.sign_certificate("V2GCertificate")
            await eventually(installed_count(tenant_a, "SIM-SECC", 2), what="its V2G one")
            first_v2g = charger.certificates.own["V2GCertificate"]
            tls = charger.certificates.own["ChargingStationCertificate"]
            await in_a(
                tenant_a,
                lambda: IssuedCertificate.objects.filter(use=CertificateUse.V2G).update(
                    not_after=timezone.now() + timedelta(days=3)
                ),
            )

            await sync_to_async(tasks.renew_due.delay)()
            await eventually(installed_count(tenant_a, "SIM-SECC", 3), what="the renewal")

    rows = await in_a(
        tenant_a,
        lambda: list(IssuedCertificate.objects.order_by("created_at").values_list("use", "state")),
    )
    assert rows == [
        (CertificateUse.CHARGING_STATION, IssuedState.INSTALLED),
        (CertificateUse.V2G, IssuedState.SUPERSEDED),
        (CertificateUse.V2G, IssuedState.INSTALLED),
    ]
    assert charger.certificates.own["V2GCertificate"] != first_v2g
    assert charger.certificates.own["ChargingStationCertificate"] == tls
    # Asked once, by TriggerMessage SignV2GCertificate.
    asked = await in_a(
        tenant_a, lambda: list(Command.objects.filter(source=RENEWAL_SOURCE).values_list("payload"))
    )
    assert asked == [({"requestedMessage": "SignV2GCertificate"},)]
