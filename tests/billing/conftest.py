"""Fixtures of billing's tests: a charger of tenant A at its site, tariffs, and Celery running
tasks at once so that a stop's pricing task runs inside the test."""

from datetime import timedelta
from decimal import Decimal

import pytest

from billing.models import Invoice
from billing.services import (
    assignment_create,
    billing_settings_set,
    customer_create,
    tariff_create,
)
from billing.tasks import issue_invoices
from chargers.models import Charger, Connector, IdToken
from chargers.services.sessions import session_start, session_stop
from cpms.celery import app
from cpms.tenancy import scoping
from tests.billing.parties import SELLER
from tests.billing.tariffs import T0, energy_elements


@pytest.fixture
def charger(tenant_a, site_a):
    with scoping.scope(tenant_a):
        charger = Charger.objects.create(identity="CP-A1", site=site_a, ocpp_version="1.6")
        Connector.objects.create(charger=charger, evse_id=1, connector_id=1)
        return charger


@pytest.fixture
def standard_tariff(tenant_a):
    """0.30 EUR/kWh + 19% VAT, for the whole tenant."""
    with scoping.scope(tenant_a):
        tariff = tariff_create(name="Standard", currency="EUR", elements=energy_elements(0.30))
        assignment_create(tariff=tariff)
        return tariff


@pytest.fixture
def eager():
    """Tasks queued run at once, in the test."""
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = False


@pytest.fixture
def charge(tenant_a, charger, django_capture_on_commit_callbacks):
    """charge(kwh, minutes=60, id_tag=..., start=T0) runs a 1.6 session through the chargers'
    services (start, stop), with on-commit callbacks executed; returns the session."""

    def run(kwh, minutes=60, id_tag="04AABBCC", start=T0):
        with scoping.scope(tenant_a), django_capture_on_commit_callbacks(execute=True):
            started = session_start(
                charger_id=charger.pk,
                connector_id=1,
                id_tag=id_tag,
                meter_start=1000,
                timestamp=start,
            )
            session, _ = session_stop(
                charger_id=charger.pk,
                transaction_id=started.session.transaction_id,
                meter_stop=Decimal(1000) + Decimal(str(kwh)) * 1000,
                timestamp=start + timedelta(minutes=minutes),
                reason="EVDisconnected",
            )
        return session

    return run


@pytest.fixture
def seller(tenant_a):
    with scoping.scope(tenant_a):
        return billing_settings_set(**SELLER)


@pytest.fixture
def fleet_customer(tenant_a, standard_tariff):
    """Harbour Logistics in Hamburg, paying for the sessions of card CARD-A (group FLEET-A)."""
    with scoping.scope(tenant_a):
        group = IdToken.objects.create(uid="FLEET-A")
        IdToken.objects.create(uid="CARD-A", group=group)
        return customer_create(
            name="Harbour Logistics",
            email="accounts@logistics.test",
            street="Kehrwieder 2",
            postal_code="20457",
            city="Hamburg",
            country="DE",
            vat_id="DE987654321",
            groups=[group],
        )


@pytest.fixture
def issue(tenant_a, seller, fleet_customer, charge, eager):
    """issue(20, 5.5) charges card CARD-A that many kWh, one session each, and issues the
    month's invoices; returns the newest invoice."""

    def run(*kwhs):
        for number, kwh in enumerate(kwhs):
            charge(kwh=kwh, id_tag="CARD-A", start=T0 + timedelta(hours=2 * number))
        issue_invoices()
        with scoping.scope(tenant_a):
            return Invoice.objects.select_related("tenant", "credits").latest("pk")

    return run
