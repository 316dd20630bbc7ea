"""A 2.0.1 token is matched by its value and its type (IdTokenEnumType): a card's number typed
on a keypad, or presented as an EV's contract or MAC address, is not the card; the types a
card reader reports for one card stand for each other; a 1.6 idTag and a token the CSMS handed
out itself (Central) match by value. Over a real socket: a TransactionEvent's token."""

import pytest
from asgiref.sync import sync_to_async

from chargers.models import IdToken, IdTokenType
from chargers.selectors.tokens import id_token_verdict, types_match
from cpms.tenancy import scoping
from tests.chargers.ocpp.clients import now
from tests.chargers.ocpp.clients201 import connected201, new_transaction_id

CARD, KEY, CONTRACT, MAC = "ISO14443", "KeyCode", "eMAID", "MacAddress"


@pytest.mark.parametrize(
    ("presented", "stored", "match"),
    [
        (None, CARD, True),  # 1.6: no type
        (None, KEY, True),
        ("Central", CARD, True),  # a remote start of the CSMS's own
        ("Central", CONTRACT, True),
        (CARD, CARD, True),
        ("Local", CARD, True),  # one card, reported Local by the same charger's Authorize
        ("ISO15693", "Local", True),
        (KEY, CARD, False),  # the number printed on a card, typed on the keypad
        (KEY, KEY, True),
        (CARD, KEY, False),
        (CONTRACT, CARD, False),
        (CONTRACT, CONTRACT, True),
        (MAC, CARD, False),
        (MAC, MAC, True),
        ("NoAuthorization", CARD, False),
        ("SomethingElse", CARD, False),
    ],
)
def test_a_presented_type_matches_the_stored_types_of_its_kind(presented, stored, match):
    assert types_match(presented=presented, stored=stored) is match


@pytest.mark.django_db
def test_a_cards_number_typed_as_a_key_code_is_refused_and_the_card_accepted(tenant_a):
    with scoping.scope(tenant_a):
        IdToken.objects.create(uid="04A1B2C3", type=IdTokenType.ISO14443)
        assert id_token_verdict(id_tag="04A1B2C3", token_type=KEY).status == "Invalid"
        assert id_token_verdict(id_tag="04A1B2C3", token_type=KEY).token is None
        assert id_token_verdict(id_tag="04a1b2c3", token_type=CARD).status == "Accepted"
        assert id_token_verdict(id_tag="04A1B2C3").status == "Accepted"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("kind", "status"), [(CARD, "Accepted"), ("Local", "Accepted"), (KEY, "Unknown")]
)
async def test_a_transaction_by_a_card_number_typed_on_the_keypad_is_not_the_cards(
    ocpp_server, tenant_a, charger, kind, status
):
    @sync_to_async
    def card():
        with scoping.scope(tenant_a):
            IdToken.objects.create(uid="04A1B2C3", type=IdTokenType.ISO14443)

    await card()
    async with connected201(ocpp_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        reply = await cp.call(
            cp.calls.TransactionEvent(
                event_type="Started",
                timestamp=now(),
                trigger_reason="Authorized",
                seq_no=0,
                transaction_info={"transaction_id": new_transaction_id()},
                evse={"id": 1, "connector_id": 1},
                id_token={"id_token": "04A1B2C3", "type": kind},
            ),
            suppress=False,
        )
    assert reply.id_token_info["status"] == status
