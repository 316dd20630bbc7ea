"""Who may open an OCPP 1.6 socket, and what is recorded when someone may not."""

import pytest
from asgiref.sync import sync_to_async

from chargers.models import Charger, HandshakeRefusal, RegistrationStatus
from cpms.tenancy import scoping
from tests.chargers.ocpp.clients import PASSWORD, basic, connected, refused_status

pytestmark = pytest.mark.django_db(transaction=True)


@sync_to_async
def refusals():
    with scoping.unscoped():
        return list(HandshakeRefusal.objects.values_list("reason", "identity", "tenant_slug"))


async def test_it_picks_ocpp16_from_the_offered_subprotocols(ocpp_server, tenant_a, make_charger):
    await sync_to_async(make_charger)(tenant_a)
    async with connected(
        ocpp_server, "tenant-a", "CP-1", subprotocols=("ocpp0.1", "ocpp1.6")
    ) as charger:
        assert charger._connection.subprotocol == "ocpp1.6"
        assert (await charger.boot()).status == "Accepted"


@pytest.mark.parametrize(
    "case,identity,headers,subprotocols,reason",
    [
        ("no subprotocol", "CP-1", basic("CP-1", PASSWORD), ("ocpp0.1",), "no_subprotocol"),
        ("no credentials", "CP-1", {}, ("ocpp1.6",), "missing_credentials"),
        (
            "wrong password",
            "CP-1",
            basic("CP-1", "wrong-password-00000"),
            ("ocpp1.6",),
            "wrong_password",
        ),
        ("unknown charger", "CP-9", basic("CP-9", PASSWORD), ("ocpp1.6",), "unknown_charger"),
        ("user is not the id", "CP-1", basic("CP-2", PASSWORD), ("ocpp1.6",), "identity_mismatch"),
        (
            "garbled header",
            "CP-1",
            {"Authorization": "Basic !!!"},
            ("ocpp1.6",),
            "missing_credentials",
        ),
        ("id with a colon", "CP:1", basic("CP:1", PASSWORD), ("ocpp1.6",), "bad_identity"),
        ("id too long", "C" * 49, basic("C" * 49, PASSWORD), ("ocpp1.6",), "bad_identity"),
    ],
)
async def test_it_refuses_the_upgrade_and_records_why(
    ocpp_server, tenant_a, make_charger, case, identity, headers, subprotocols, reason
):
    await sync_to_async(make_charger)(tenant_a)
    status = await refused_status(ocpp_server, "tenant-a", identity, headers, subprotocols)
    # OCPP's 401 for credentials (unknown ids look the same); 403 for the rest.
    assert status == (403 if reason in ("no_subprotocol", "bad_identity") else 401), case
    assert (await refusals()) == [(reason, identity[:100], "tenant-a")]


async def test_an_unknown_tenant_is_refused_like_everything_else(
    ocpp_server, tenant_a, make_charger
):
    await sync_to_async(make_charger)(tenant_a)
    assert await refused_status(ocpp_server, "no-such", "CP-1", basic("CP-1", PASSWORD)) == 401
    assert (await refusals()) == [("unknown_tenant", "CP-1", "no-such")]


async def test_a_charger_of_tenant_b_cannot_use_tenant_a_url(
    ocpp_server, tenant_a, tenant_b, make_charger
):
    await sync_to_async(make_charger)(tenant_b, identity="B-1")
    assert await refused_status(ocpp_server, "tenant-a", "B-1", basic("B-1", PASSWORD)) == 401
    assert (await refusals()) == [("unknown_charger", "B-1", "tenant-a")]


async def test_the_same_id_in_two_tenants_is_two_chargers(
    ocpp_server, tenant_a, tenant_b, make_charger
):
    await sync_to_async(make_charger)(tenant_a, identity="SHARED", password="a-password-000000")
    await sync_to_async(make_charger)(tenant_b, identity="SHARED", password="b-password-000000")
    assert (
        await refused_status(
            ocpp_server, "tenant-a", "SHARED", basic("SHARED", "b-password-000000")
        )
        == 401
    )
    async with connected(ocpp_server, "tenant-b", "SHARED", "b-password-000000") as charger:
        assert (await charger.boot()).status == "Accepted"


async def test_a_url_encoded_id_is_decoded(ocpp_server, tenant_a, make_charger):
    await sync_to_async(make_charger)(tenant_a, identity="Site 1/Bay #2")
    async with connected(ocpp_server, "tenant-a", "Site 1/Bay #2") as charger:
        assert (await charger.boot()).status == "Accepted"


@sync_to_async
def set_onboarding(tenant):
    from chargers.services.fleet_settings import onboarding_open

    onboarding_open(tenant=tenant, password="onboarding-pass-0001")


async def test_an_unknown_charger_with_the_onboarding_password_waits_as_pending(
    ocpp_server, tenant_a
):
    await set_onboarding(tenant_a)
    async with connected(ocpp_server, "tenant-a", "NEW-1", "onboarding-pass-0001") as charger:
        reply = await charger.boot()
        assert reply.status == "Pending"
        with scoping.scope(tenant_a):
            new = await sync_to_async(Charger.objects.get)(identity="NEW-1")
        assert new.registration_status == RegistrationStatus.PENDING


async def test_onboarding_is_off_unless_the_tenant_turns_it_on(ocpp_server, tenant_a):
    assert (
        await refused_status(
            ocpp_server, "tenant-a", "NEW-1", basic("NEW-1", "onboarding-pass-0001")
        )
        == 401
    )
    assert (await refusals())[0][0] == "unknown_charger"
