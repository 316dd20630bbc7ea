"""The tenant's running-cost interval: which running sessions are due their cost on the
charger's screen, the setting's bounds, and one tenant's setting leaving another's alone."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from billing import display, pricing
from billing.events import SessionCostUpdated
from billing.models import BillingSettings, RunningCost
from billing.selectors import cost_update_seconds, sessions_due_a_cost
from billing.services import billing_settings_set, running_cost_send
from chargers.costs import Cost
from chargers.models import Charger, ChargingSession
from cpms.events import captured
from cpms.tenancy import scoping

pytestmark = pytest.mark.django_db


@pytest.fixture
def running_session(tenant_a, charger):
    with scoping.scope(tenant_a):
        Charger.objects.filter(pk=charger.pk).update(is_online=True)
        return ChargingSession.objects.create(
            charger=charger,
            transaction_id="1",
            evse_id=1,
            connector_id=1,
            started_at=timezone.now() - timedelta(minutes=5),
        )


def test_the_default_interval_is_a_minute(tenant_a):
    with scoping.scope(tenant_a):
        assert cost_update_seconds() == 60


@pytest.mark.parametrize("seconds", [-1, 1, 9, 3601])
def test_an_interval_out_of_bounds_names_the_field_and_changes_nothing(tenant_a, seconds):
    with scoping.scope(tenant_a), pytest.raises(ValidationError) as raised:
        billing_settings_set(cost_update_seconds=seconds)
    assert "cost_update_seconds" in raised.value.message_dict
    with scoping.scope(tenant_a):
        assert not BillingSettings.objects.exists()


def test_a_session_is_due_its_cost_once_per_interval(tenant_a, running_session):
    now = timezone.now()
    with scoping.scope(tenant_a):
        billing_settings_set(cost_update_seconds=30)
        assert sessions_due_a_cost(now) == [running_session.pk]
        RunningCost.objects.create(
            session=running_session, amount=Decimal("1.19"), currency="EUR", sent_at=now
        )
        assert sessions_due_a_cost(now + timedelta(seconds=29)) == []
        assert sessions_due_a_cost(now + timedelta(seconds=31)) == [running_session.pk]
        billing_settings_set(cost_update_seconds=0)
        assert sessions_due_a_cost(now + timedelta(hours=1)) == []


def test_one_tenants_interval_leaves_anothers_alone(tenant_a, tenant_b, running_session):
    with scoping.scope(tenant_b):
        billing_settings_set(cost_update_seconds=0)
        assert cost_update_seconds() == 0
        assert sessions_due_a_cost(timezone.now()) == []  # tenant A's session is not B's
    with scoping.scope(tenant_a):
        assert cost_update_seconds() == 60
        assert sessions_due_a_cost(timezone.now()) == [running_session.pk]


def test_the_price_text_reads_unit_prices_with_vat():
    tariff = pricing.tariff_from_ocpi(
        {
            "currency": "EUR",
            "elements": [
                {"price_components": [{"type": "ENERGY", "price": 0.30, "vat": 19}]},
                {"price_components": [{"type": "PARKING_TIME", "price": 5, "vat": 20}]},
            ],
        },
        parking_grace_seconds=900,
    )
    text = display.describe(tariff)
    assert text == "€0.36/kWh, €6.00/h parking (parking after 15 min) incl. VAT"
    assert display.total_text(Cost(Decimal("4.57"), "EUR")) == "Total €4.57 incl. VAT"


# The command goes through the command path's database threads: a committed world.
@pytest.mark.django_db(transaction=True)
def test_a_cost_sent_is_announced_to_the_live_session_page(
    tenant_a, running_session, standard_tariff
):
    with scoping.scope(tenant_a):
        Charger.objects.filter(pk=running_session.charger_id).update(ocpp_version="2.0.1")
        with captured(SessionCostUpdated) as heard:
            sent = running_cost_send(session_id=running_session.pk)
    assert sent is not None and sent.currency == "EUR"
    (event,) = heard
    assert event.session_id == running_session.pk and event.text == "€0.00"


@pytest.mark.django_db(transaction=True)
def test_the_screens_of_a_tenant_without_tariffs_read_nothing_and_see_its_first_at_once(
    tenant_a, running_session, django_assert_num_queries
):
    from billing.services import assignment_create, tariff_create
    from tests.billing.tariffs import energy_elements

    charger_id = running_session.charger_id
    with scoping.scope(tenant_a):
        assert display.session_cost(session_id=running_session.pk) is None
        # Remembered: a fleet that does not bill asks nothing more at each token and stop.
        with django_assert_num_queries(0):
            assert display.session_cost(session_id=running_session.pk) is None
            assert display.price_text(charger_id=charger_id, evse_id=1, token=None) is None
        tariff = tariff_create(name="First", currency="EUR", elements=energy_elements(0.30))
        assignment_create(tariff=tariff)
        cost = display.session_cost(session_id=running_session.pk)
        price = display.price_text(charger_id=charger_id, evse_id=1, token=None)
    assert cost is not None and cost.currency == "EUR"
    assert price is not None and "€0.36/kWh" in price.text
