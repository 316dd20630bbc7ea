"""The demo's PKI: seed_demo gives the demo tenant one CA however often it runs, and a demo
charger (2.0.1, asking once registered, as `manage.py demo` runs them) ends up holding a
certificate that CA issued."""

import io

import pytest
from asgiref.sync import sync_to_async
from django.core.management import call_command

from chargers.certificates.models import (
    CertificateAuthority,
    IssuedCertificate,
    IssuedState,
    PlugAndChargeSettings,
)
from chargers.management.commands.demo import DEMO_PLUG_AND_CHARGE, fleet_arguments
from chargers.models import ChargingSession
from chargers.services.demo import DEMO_CHARGER_PASSWORD
from cpms.models import Tenant
from cpms.tenancy import scoping
from tests.aio import eventually, in_a
from tests.chargers.certificates.pki import chain_of, simulated
from tests.chargers.simulator.helpers import running
from tests.helpers import eager_tasks


def test_seed_demo_gives_the_demo_tenant_one_ca(db):
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())

    with scoping.scope(Tenant.objects.get(slug="demo")):
        assert CertificateAuthority.objects.filter(active=True).count() == 1
        assert CertificateAuthority.objects.count() == 1


@pytest.mark.django_db(transaction=True)
async def test_a_demo_201_charger_holds_a_certificate_of_the_demo_ca(ocpp_server_in_process):
    await sync_to_async(call_command)("seed_demo", stdout=io.StringIO())
    demo = await sync_to_async(Tenant.objects.get)(slug="demo")
    charger = simulated(
        ocpp_server_in_process,
        demo,
        "DEMO-0002",
        password=DEMO_CHARGER_PASSWORD,
        request_certificate=True,
    )

    async def installed():
        return await in_a(
            demo, lambda: IssuedCertificate.objects.filter(state=IssuedState.INSTALLED).first()
        )

    with eager_tasks():
        async with running(charger):
            issued = await eventually(installed, what="the demo charger's certificate")

    authority = await in_a(demo, lambda: CertificateAuthority.objects.get(active=True))
    leaf, sub_ca = chain_of(charger.certificates.own["ChargingStationCertificate"])
    assert issued.authority_id == authority.pk
    assert sub_ca.fingerprint(sub_ca.signature_hash_algorithm).hex() == authority.fingerprint
    leaf.verify_directly_issued_by(sub_ca)


def test_the_demo_fleet_has_one_plug_and_charge_charger_whose_contracts_join_the_fleet(db):
    call_command("seed_demo", stdout=io.StringIO())

    arguments = fleet_arguments("127.0.0.1", 8000)
    assert arguments[arguments.index("--plug-and-charge") + 1] == DEMO_PLUG_AND_CHARGE
    with scoping.scope(Tenant.objects.get(slug="demo")):
        assert PlugAndChargeSettings.objects.get().token_group.uid == "FLEET-GROUP"


@pytest.mark.django_db(transaction=True)
async def test_the_demo_plug_and_charge_charger_charges_under_its_emaid(ocpp_server_in_process):
    await sync_to_async(call_command)("seed_demo", stdout=io.StringIO())
    demo = await sync_to_async(Tenant.objects.get)(slug="demo")
    charger = simulated(
        ocpp_server_in_process,
        demo,
        "DEMO-0006",
        password=DEMO_CHARGER_PASSWORD,
        plug_and_charge=True,
    )

    with eager_tasks():
        async with running(charger):
            session = await charger.start_session(connector_id=1)

    assert session is not None and session.tag_type == "eMAID"
    stored = await in_a(
        demo, lambda: ChargingSession.objects.select_related("id_token__group").get()
    )
    assert stored.id_token.uid == charger.contract.emaid
    assert stored.id_token.group.uid == "FLEET-GROUP"
