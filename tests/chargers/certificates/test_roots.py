"""Root certificates on chargers over real OCPP: install one, list what the charger holds (the
installed set follows the reply) and delete it, on a 2.0.1 and a 1.6 simulated charger, one at
a time and as a fleet operation on a site."""

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from chargers.certificates import crypto
from chargers.certificates.models import (
    CertificateOperation,
    InstalledCertificate,
    OperationState,
)
from chargers.certificates.services import roots
from chargers.models import Charger
from cpms.models import Site
from cpms.tenancy import scoping
from tests.aio import eventually, in_a
from tests.chargers.certificates.pki import register, simulated
from tests.chargers.simulator.helpers import fleet, running
from tests.helpers import eager_tasks

pytestmark = pytest.mark.django_db(transaction=True)


def a_root(name="Acme Root"):
    return crypto.pem_of(crypto.new_authority(organization=name, now=timezone.now()).root)


def operate(tenant, service, identities, **kwargs):
    @sync_to_async
    def run():
        with scoping.scope(tenant):
            chargers = list(Charger.objects.filter(identity__in=identities))
            return [o.batch for o in service(chargers=chargers, **kwargs)][0]

    return run()


def batch_done(tenant, batch):
    async def check():
        states = await in_a(
            tenant,
            lambda: list(
                CertificateOperation.objects.filter(batch=batch).values_list("state", flat=True)
            ),
        )
        return states and OperationState.SENT not in states and states

    return check


def held(tenant, identity):
    return in_a(
        tenant,
        lambda: sorted(
            (i.kind, i.subject)
            for i in InstalledCertificate.objects.filter(charger__identity=identity)
        ),
    )


@pytest.mark.parametrize("version", ["2.0.1", "1.6"])
async def test_a_root_is_installed_listed_and_deleted(ocpp_server_in_process, tenant_a, version):
    await register(tenant_a, "SIM-ROOT")
    charger = simulated(ocpp_server_in_process, tenant_a, "SIM-ROOT", version=version)
    pem = a_root()
    with eager_tasks():
        async with running(charger):
            batch = await operate(
                tenant_a, roots.roots_install, ["SIM-ROOT"], root_kind="csms_root", pem=pem
            )
            assert await eventually(batch_done(tenant_a, batch)) == [OperationState.DONE]
            assert await held(tenant_a, "SIM-ROOT") == [
                ("csms_root", "CN=Acme Root Root CA,O=Acme Root")
            ]

            # What the charger lists replaces what was known of it.
            await in_a(tenant_a, lambda: InstalledCertificate.objects.all().delete())
            batch = await operate(tenant_a, roots.roots_list, ["SIM-ROOT"])
            assert set(await eventually(batch_done(tenant_a, batch))) == {OperationState.DONE}
            assert await held(tenant_a, "SIM-ROOT") == [
                ("csms_root", "CN=Acme Root Root CA,O=Acme Root")
            ]

            installed = await in_a(tenant_a, lambda: InstalledCertificate.objects.get())
            data = {
                "issuer_name_hash": installed.issuer_name_hash,
                "issuer_key_hash": installed.issuer_key_hash,
                "serial_number": installed.serial_number,
            }
            batch = await operate(tenant_a, roots.roots_delete, ["SIM-ROOT"], hash_data=data)
            assert await eventually(batch_done(tenant_a, batch)) == [OperationState.DONE]

    assert charger.certificates.installed == []
    assert await held(tenant_a, "SIM-ROOT") == []


async def test_a_v2g_root_cannot_go_to_a_16_charger(ocpp_server_in_process, tenant_a):
    await register(tenant_a, "SIM-16")
    charger = simulated(ocpp_server_in_process, tenant_a, "SIM-16", version="1.6")
    with eager_tasks():
        async with running(charger):
            batch = await operate(
                tenant_a, roots.roots_install, ["SIM-16"], root_kind="v2g_root", pem=a_root()
            )
    operation = await in_a(tenant_a, lambda: CertificateOperation.objects.get(batch=batch))
    assert operation.state == OperationState.FAILED
    assert "1.6 charger holds no v2g root" in operation.detail
    assert charger.certificates.installed == []


async def test_a_fleet_operation_installs_on_every_charger_of_a_site(
    ocpp_server_in_process, tenant_a, api, keys
):
    await register(tenant_a, "SIM-F1", "SIM-F2")

    @sync_to_async
    def on_a_site():
        with scoping.scope(tenant_a):
            site = Site.objects.create(name="Depot", timezone="UTC")
            Charger.objects.filter(identity__startswith="SIM-F").update(site=site)
            return site.pk

    site_id = await on_a_site()
    chargers = [
        simulated(ocpp_server_in_process, tenant_a, "SIM-F1"),
        simulated(ocpp_server_in_process, tenant_a, "SIM-F2", version="1.6"),
    ]
    pem = a_root("Fleet")
    with eager_tasks():
        async with fleet(*chargers):
            response = await sync_to_async(api(keys["operator"]).post)(
                "/api/v1/certificate-operations/",
                {"kind": "install", "site": site_id, "root_kind": "csms_root", "certificate": pem},
                format="json",
            )
            assert response.status_code == 202, response.content
            batch = response.json()["batch"]
            outcomes = await eventually(batch_done(tenant_a, batch))

    assert outcomes == [OperationState.DONE, OperationState.DONE]
    assert [len(c.certificates.installed) for c in chargers] == [1, 1]
    assert chargers[0].certificates.installed[0].type == "CSMSRootCertificate"
    assert chargers[1].certificates.installed[0].type == "CentralSystemRootCertificate"
