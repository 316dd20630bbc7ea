"""Every main page fits a phone (390 px) and a wide screen (1400 px): the document is never wider
than the window (tables scroll in their own box, lists become cards and never hide a column in
a scroll), and the browser's console
stays free of errors (a missing favicon, a failing script). Screenshots of each page at both
widths go to var/screenshots/ for a person to look at.

One browser, one logged-in context per persona (the operators' admin and a site owner), the
pages in a loop; a page's problems are collected and reported together."""

import contextlib
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.utils import timezone

from billing.invoicing import month
from billing.models import Customer, Invoice, InvoiceLine
from billing.services import cdr_issue, demo_tariffs_seed, statements_issue
from chargers.models import (
    ChargingSession,
    Command,
    CommandStatus,
    Connector,
    IdToken,
    SessionState,
    StatusEvent,
)
from chargers.smart_charging.models import (
    EvChargingNeeds,
    EvChargingSchedule,
    ProfileKind,
    ProfilesReport,
    SentProfile,
)
from chargers.smart_charging.schedules import HeldProfile, Period, Schedule
from cpms.services.apikeys import api_key_create
from cpms.tenancy import scoping
from tests.browser.threads import off_the_loop
from tests.chargers.factories import make_fleet
from tests.chargers.firmware.world import firmware_world
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

WIDTHS = (390, 1400)
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
# Long words that do not break are what pushes a narrow page wider than the screen.
LONG_OUTCOME = "No reply in time (the charger did not answer within 15 seconds: TimeoutError)"


@pytest.fixture
def world(tenant_a, site_a, alice, paula):
    """A network with something on every page: two chargers, one with two running sessions,
    finished sessions, a command log with long outcomes, an alert, a token, a key."""
    now = timezone.now()
    with scoping.scope(tenant_a):
        fleet = make_fleet(site_a, identity="CP-HARBOUR-0001-LONG-IDENTITY")
        charger = fleet["charger"]
        make_fleet(site_a, identity="CP-2")
        Connector.objects.create(charger=charger, evse_id=2, connector_id=1, status="Charging")
        ChargingSession.objects.create(
            charger=charger, site=site_a, evse_id=2, connector_id=1, transaction_id="102",
            id_tag="04DDEEFF", started_at=now - timedelta(minutes=5), meter_start_wh=0,
            energy_wh=Decimal(800), power_w=Decimal(22000), state=SessionState.ACTIVE,
        )  # fmt: skip
        for days in range(1, 8):
            ChargingSession.objects.create(
                charger=charger, site=site_a, evse_id=1, connector_id=1,
                transaction_id=str(200 + days), id_tag="04AABBCC",
                started_at=now - timedelta(days=days, hours=2),
                stopped_at=now - timedelta(days=days),
                meter_start_wh=0, energy_wh=Decimal(9000 + days * 700),
                state=SessionState.COMPLETED, stop_reason="EVDisconnected",
            )  # fmt: skip
        StatusEvent.objects.create(
            charger=charger, evse_id=1, connector_id=1, status="Available",
            timestamp=now - timedelta(days=10), received_at=now - timedelta(days=10),
        )  # fmt: skip
        for action, status, error in [
            ("Reset", CommandStatus.ANSWERED, ""),
            ("GetConfiguration", CommandStatus.TIMEOUT, LONG_OUTCOME),
            ("ChangeConfiguration", CommandStatus.CALL_ERROR, "NotSupported: " + "x" * 80),
        ]:
            Command.objects.create(
                charger=charger, action=action, status=status, error=error,
                response={"status": "Accepted"} if status == CommandStatus.ANSWERED else None,
                requested_by=alice, source="dashboard", completed_at=now,
            )  # fmt: skip
        charging_limits(charger, now)
        IdToken.objects.create(uid="04A1B2C3D4E5F6", label="Driver Anna")
        api_key_create(tenant=tenant_a, name="Billing export", role="read_only", created_by=alice)
        firmware = firmware_world(charger, site_a, with_file=False)
    # Billing's services publish events the dashboards' pusher sends from a thread of its own:
    # this thread runs Playwright's event loop.
    billing = off_the_loop(lambda: priced_world(tenant_a, site_a, now))
    return {**fleet, **firmware, "site": site_a, **billing}


def charging_limits(charger, now):
    """The charger's limits section filled: a composite schedule, a limit sent, the profiles
    it listed (one differing), and an ISO 15118 EV's needs and refused schedule."""
    session = ChargingSession.objects.get(charger=charger, evse_id=2)
    periods = [{"startPeriod": s, "limit": 11000.0 - s} for s in range(0, 3600, 900)]
    Command.objects.create(
        charger=charger, action="GetCompositeSchedule", status=CommandStatus.ANSWERED,
        payload={"connectorId": 2, "duration": 3600}, completed_at=now,
        response={"status": "Accepted", "connectorId": 2, "scheduleStart": now.isoformat(),
                  "chargingSchedule": {"duration": 3600, "chargingRateUnit": "W",
                                       "chargingSchedulePeriod": periods}},
    )  # fmt: skip
    SentProfile.objects.create(
        charger=charger, evse_id=2, kind=ProfileKind.SESSION, session=session,
        periods=[[now.isoformat(), 16.0]], limit_a=16, status="accepted",
        sent_at=now - timedelta(minutes=1),
    )  # fmt: skip
    held = HeldProfile(
        2, "CSO", 14002, 0, "session", "TxProfile", "102",
        Schedule("A", (Period(0, 10.0), Period(1800, 6.0)), start=now),
    )  # fmt: skip
    ProfilesReport.objects.create(
        charger=charger, request_id=123456789, started_at=now, updated_at=now, complete=True,
        parts=1, profiles=[held.as_json()],
    )  # fmt: skip
    EvChargingNeeds.objects.create(
        charger=charger, evse_id=2, session=session, received_at=now, transfer="AC_three_phase",
        departure_at=now + timedelta(hours=8), energy_wh=42000, min_current_a=6,
        max_current_a=32, answer="schedule",
    )  # fmt: skip
    EvChargingSchedule.objects.create(
        charger=charger, evse_id=2, session=session, received_at=now, time_base=now,
        schedule=Schedule("W", (Period(0, 22000.0), Period(600, 11000.0))).as_json(),
        within_limits=False, verdict="from 0 s: 22000 W (31.9 A) is over the 16.0 A sent",
    )  # fmt: skip


def priced_world(tenant, site, now):
    """A tariff with a long editor's worth of elements, the finished sessions priced, an
    invoice of them and the site owner's statement of this month."""
    with scoping.scope(tenant):
        return _priced(site, now)


def _priced(site, now):
    fleet_group = IdToken.objects.create(uid="FLEET-GROUP-LONG-NAME", label="Fleet cards")
    tariffs = demo_tariffs_seed(fleet_group=fleet_group)
    records = [
        cdr_issue(session_id=pk)
        for pk in ChargingSession.objects.filter(state=SessionState.COMPLETED).values_list(
            "pk", flat=True
        )
    ]
    customer = Customer.objects.get()
    invoice = Invoice.objects.create(
        customer=customer, kind="invoice", series="INV", number=1, period_start=now.date(),
        period_end=now.date(), issued_at=now, currency="EUR",
        total_excl_vat_minor=sum(r.total_excl_vat_minor for r in records),
        total_incl_vat_minor=sum(r.total_incl_vat_minor for r in records),
        vat_groups=[{"vat": "19", "base": "1.00", "amount": "0.19"}],
    )  # fmt: skip
    for record in records:
        InvoiceLine.objects.create(
            invoice=invoice, cdr=record, description=f"Session {record.session_id} at the mall",
            total_excl_vat_minor=record.total_excl_vat_minor,
            total_incl_vat_minor=record.total_incl_vat_minor,
        )  # fmt: skip
    statements_issue(period=month(now.year, now.month, ZoneInfo(site.timezone)))
    return {"tariff": tariffs[0], "invoice": invoice}


def operator_pages(world):
    t = "/t/tenant-a"
    return {
        "overview": f"{t}/",
        "chargers": f"{t}/chargers/",
        "charger": f"{t}/chargers/{world['charger'].pk}/",
        "sessions": f"{t}/sessions/",
        "session": f"{t}/sessions/{world['session'].pk}/",
        "sites": f"{t}/sites/",
        "site": f"{t}/sites/{world['site'].pk}/",
        "alerts": f"{t}/alerts/",
        "alert": f"{t}/alerts/{world['alert'].pk}/",
        "id-tokens": f"{t}/id-tokens/",
        "members": f"{t}/members/",
        "api-keys": f"{t}/api-keys/",
        "settings": f"{t}/settings/",
        "tariffs": f"{t}/tariffs/",
        "tariff": f"{t}/tariffs/{world['tariff'].pk}/?start=2026-03-06+17:40&hours=2&minutes=10"
        "&energy_kwh=22&charging_minutes=90",
        "tariff-edit": f"{t}/tariffs/{world['tariff'].pk}/edit/",
        "invoices": f"{t}/invoices/",
        "invoice": f"{t}/invoices/{world['invoice'].pk}/",
        "firmware": f"{t}/firmware/",
        "campaign": f"{t}/firmware/campaigns/{world['running_campaign'].pk}/",
        "campaign-target": f"{t}/firmware/targets/{world['campaign_target'].pk}/",
        "firmware-images": f"{t}/firmware/images/",
        "firmware-outdated": f"{t}/firmware/outdated/",
        "charger-diagnostics": f"{t}/chargers/{world['charger'].pk}/diagnostics/",
    }


def portal_pages(world):
    return {
        "portal-home": "/portal/tenant-a/",
        "portal-site": f"/portal/tenant-a/sites/{world['site'].pk}/",
        "portal-statements": "/portal/tenant-a/statements/",
    }


@contextlib.contextmanager
def logged_in(browser, server_url, user):
    """A page of a new browser context, `user` logged in; the context is closed afterwards."""
    # The server process keeps Django's default hashers; the tests' fast MD5 is not one.
    hasher = PBKDF2PasswordHasher()
    user.password = hasher.encode(PASSWORD, hasher.salt())
    user.save(update_fields=["password"])
    context = browser.new_context(viewport={"width": WIDTHS[-1], "height": 900})
    page = context.new_page()
    page.goto(f"{server_url}/accounts/login/")
    page.fill("input[name=username]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    try:
        yield page
    finally:
        context.close()


def problems_on_every_page(page, server_url, pages, persona):
    """Load each page at each width; return what went wrong, page by page."""
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: errors.append(f"script: {e}"))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    found = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        for name, path in pages.items():
            errors.clear()
            response = page.goto(f"{server_url}{path}")
            page.wait_for_load_state("load")
            widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            page.screenshot(path=SCREENSHOTS / f"{persona}-{name}-{width}.png", full_page=True)
            if response is None or response.status != 200:
                found.append(f"{name} at {width}px: HTTP {response and response.status}")
            if widths[0] > widths[1]:
                found.append(f"{name} at {width}px: the document is {widths[0]}px wide")
            # Lists that turn into cards must show every column: none may hide in a scroll.
            cut = page.evaluate(
                "[...document.querySelectorAll('.table-wrap')]"
                ".filter(w => w.querySelector('table.stack') && w.scrollWidth > w.clientWidth + 1)"
                ".map(w => w.querySelector('thead')?.innerText.replace(/\\s+/g, ' '))"
            )
            found += [f"{name} at {width}px: a list scrolls sideways: {head}" for head in cut]
            found += [f"{name} at {width}px: {error}" for error in errors]
    return found


def test_the_operators_pages_fit_phones_and_wide_screens(server_url, world, alice, browser):
    with logged_in(browser, server_url, alice) as page:
        problems = problems_on_every_page(page, server_url, operator_pages(world), "operator")
    assert problems == []


def test_the_portals_pages_fit_phones_and_wide_screens(server_url, world, paula, browser):
    with logged_in(browser, server_url, paula) as page:
        problems = problems_on_every_page(page, server_url, portal_pages(world), "portal")
    assert problems == []


def test_on_a_phone_the_navigation_is_a_menu_the_button_opens(server_url, world, alice, browser):
    with logged_in(browser, server_url, alice) as page:
        page.set_viewport_size({"width": 390, "height": 800})
        page.goto(f"{server_url}/t/tenant-a/")
        chargers = page.get_by_role("link", name="Chargers", exact=True)
        assert not chargers.is_visible()
        page.get_by_role("button", name="Menu").click()
        chargers.click()
        page.wait_for_url(f"{server_url}/t/tenant-a/chargers/")
