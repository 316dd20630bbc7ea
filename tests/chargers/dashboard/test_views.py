"""The operator pages and the portal: what they show, what they refuse, what they write."""

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from chargers.models import (
    Charger,
    ChargingSession,
    Command,
    CommandStatus,
    Connector,
    IdToken,
    RegistrationStatus,
)
from chargers.selectors.uptime import uptime_fraction
from cpms import hashing
from cpms.exports import neutralise
from cpms.models import Site
from cpms.tenancy import scoping
from tests.chargers.factories import a_day_begun_an_hour_ago, make_fleet, status_event


def page(name, **kwargs):
    return reverse(name, kwargs={"tenant_slug": "tenant-a", **kwargs})


# --- Markup from chargers is text -----------------------------------------------------------------


def test_a_vendor_with_a_script_tag_is_shown_as_text(client, tenant_a, site_a, bob):
    with scoping.scope(tenant_a):
        charger = make_fleet(site_a, vendor="<script>alert(1)</script>")["charger"]
        Connector.objects.filter(charger=charger).update(
            status="Faulted", info="<img src=x onerror=alert(2)>"
        )
    client.force_login(bob)
    for url in [page("charger_detail", pk=charger.pk), page("charger_list")]:
        body = client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    detail = client.get(page("charger_detail", pk=charger.pk)).content.decode()
    assert "<img src=x" not in detail and "&lt;img src=x onerror=alert(2)&gt;" in detail


def test_the_live_script_never_writes_markup():
    from pathlib import Path

    source = (Path(__file__).parents[3] / "static" / "cpms" / "live.js").read_text()
    assert "innerHTML" not in source and "insertAdjacentHTML" not in source
    assert "textContent" in source


# --- CSV ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cell,expected",
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("04AABBCC", "04AABBCC"),
        (None, ""),
        (12, "12"),
        (Decimal("-7.14"), "-7.14"),
    ],
)
def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(cell, expected):
    assert neutralise(cell) == expected


def test_the_session_export_neutralises_a_formula_id_tag(client, tenant_a, fleet, bob):
    with scoping.scope(tenant_a):
        ChargingSession.objects.update(id_tag="=cmd|' /C calc'!A0")
    client.force_login(bob)
    response = client.get(page("session_export"))
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0]["id_token"] == "'=cmd|' /C calc'!A0"
    assert rows[0]["charger"] == "CP-A1" and rows[0]["energy_kwh"] == "3.500"


def test_the_session_list_filters_by_id_token_and_date(client, tenant_a, fleet, bob):
    client.force_login(bob)
    today = datetime.now(UTC).date()
    hit = client.get(page("session_list"), {"id_token": "04aabbcc", "since": str(today)})
    miss = client.get(page("session_list"), {"id_token": "OTHER"})
    old = client.get(page("session_list"), {"until": str(today - timedelta(days=3))})
    assert b"CP-A1" in hit.content
    assert b"No sessions match" in miss.content and b"No sessions match" in old.content


# --- The chargers table ---------------------------------------------------------------------------


def test_the_chargers_table_filters_by_state_and_vendor(client, tenant_a, site_a, bob):
    with scoping.scope(tenant_a):
        make_fleet(site_a, identity="BUSY", vendor="Acme")
        idle = make_fleet(site_a, identity="IDLE", vendor="Other")["charger"]
        Connector.objects.filter(charger=idle).update(status="Available")
        Charger.objects.create(identity="NEW", registration_status=RegistrationStatus.PENDING)
    client.force_login(bob)
    charging = client.get(page("charger_list"), {"state": "charging"}).content
    assert b"BUSY" in charging and b"IDLE" not in charging
    assert b">NEW<" in client.get(page("charger_list"), {"state": "pending"}).content
    other = client.get(page("charger_list"), {"vendor": "Other"}).content
    assert b"IDLE" in other and b"BUSY" not in other


def test_the_chargers_table_costs_the_same_queries_for_more_chargers(client, tenant_a, bob):
    def queries_for(count):
        with scoping.scope(tenant_a):
            Charger.objects.bulk_create(
                Charger(identity=f"Q-{count}-{i}", vendor="Acme") for i in range(count)
            )
        with CaptureQueriesContext(connection) as captured:
            assert client.get(page("charger_list")).status_code == 200
        return len(captured)

    client.force_login(bob)
    assert queries_for(3) == queries_for(60)


def test_the_overview_counts_chargers_by_state(client, tenant_a, fleet, bob):
    a_day_begun_an_hour_ago(tenant_a)
    client.force_login(bob)
    counts = client.get(page("fleet_counts")).json()
    assert counts["charging"] == 1 and counts["total"] == 1 and counts["active_sessions"] == 1
    assert counts["open_alerts"] == 1 and counts["energy_today_kwh"] == "3.50"


# --- Commands -------------------------------------------------------------------------------------


# The command goes through asgiref's thread, which needs committed rows to see.
@pytest.mark.django_db(transaction=True)
def test_a_command_to_an_offline_charger_is_recorded_and_reported(client, tenant_a, fleet, olga):
    with scoping.scope(tenant_a):
        Charger.objects.update(is_online=False, channel_name="")
    client.force_login(olga)
    charger = fleet["charger"]
    response = client.post(
        page("charger_command", pk=charger.pk), {"action": "reset_soft"}, follow=True
    )
    assert b"Reset: Charger offline" in response.content
    with scoping.scope(tenant_a):
        command = Command.objects.get()
    assert command.status == CommandStatus.OFFLINE and command.requested_by == olga
    assert command.payload == {"type": "Soft"} and command.source == "dashboard"


@pytest.mark.parametrize(
    "data,error",
    [
        (
            {"action": "get_diagnostics", "location": "file:///etc/passwd"},
            b"upload location must be an http(s) or ftp(s) URL",
        ),
        (
            # The connector, as the page names the field, not the form's `evse_id`.
            {"action": "unlock", "evse_id": "-3"},
            b"connector: Ensure this value is greater than or equal to 0.",
        ),
    ],
    ids=["bad location", "bad connector"],
)
def test_a_command_with_bad_input_names_the_field_and_sends_nothing(
    client, tenant_a, fleet, olga, data, error
):
    client.force_login(olga)
    response = client.post(page("charger_command", pk=fleet["charger"].pk), data, follow=True)
    assert error in response.content
    with scoping.scope(tenant_a):
        assert not Command.objects.exists()


def test_bob_the_viewer_cannot_send_commands(client, tenant_a, fleet, bob):
    client.force_login(bob)
    response = client.post(
        page("charger_command", pk=fleet["charger"].pk), {"action": "reset_soft"}
    )
    assert response.status_code == 403
    with scoping.scope(tenant_a):
        assert not Command.objects.exists()


def test_charlie_cannot_command_a_tenant_a_charger_from_his_slug(client, tenant_a, fleet, charlie):
    client.force_login(charlie)
    url = reverse("charger_command", kwargs={"tenant_slug": "tenant-b", "pk": fleet["charger"].pk})
    assert client.post(url, {"action": "reset_hard"}).status_code == 404
    with scoping.scope(tenant_a):
        assert not Command.objects.exists()


def test_the_configuration_page_shows_the_last_keys_read(client, tenant_a, fleet, bob):
    with scoping.scope(tenant_a):
        Command.objects.create(
            charger=fleet["charger"],
            action="GetConfiguration",
            status=CommandStatus.ANSWERED,
            response={"configurationKey": [{"key": "HeartbeatInterval", "value": "300"}]},
        )
    client.force_login(bob)
    body = client.get(page("charger_configuration", pk=fleet["charger"].pk)).content
    assert b"HeartbeatInterval" in body and b"300" in body


# --- Credentials and registration -----------------------------------------------------------------


def test_an_admin_rotates_a_password_and_sees_it_once(client, tenant_a, fleet, alice):
    client.force_login(alice)
    url = page("charger_credentials", pk=fleet["charger"].pk)
    response = client.post(url, {"password": ""}, follow=True)
    assert response.redirect_chain == [(url, 302)]
    password = response.context["password"]
    assert password and password.encode() in response.content
    assert response["Cache-Control"].startswith("max-age=0")
    with scoping.scope(tenant_a):
        stored = Charger.objects.get().password_hash
    assert hashing.check(password, stored)
    assert password.encode() not in client.get(url).content


def test_reloading_after_rotating_a_password_does_not_rotate_it_again(
    client, tenant_a, fleet, alice
):
    client.force_login(alice)
    url = page("charger_credentials", pk=fleet["charger"].pk)
    rotated = client.post(url, {"password": ""})
    assert rotated.status_code == 302 and rotated["Location"] == url
    with scoping.scope(tenant_a):
        after_rotation = Charger.objects.get().password_hash
    client.get(url)
    client.get(url)
    with scoping.scope(tenant_a):
        assert Charger.objects.get().password_hash == after_rotation


def test_a_too_short_password_is_refused_with_the_reason(client, tenant_a, fleet, alice):
    client.force_login(alice)
    response = client.post(page("charger_credentials", pk=fleet["charger"].pk), {"password": "x"})
    assert response.status_code == 200 and response.context["password"] is None
    assert response.context["form"].errors["password"]
    with scoping.scope(tenant_a):
        assert Charger.objects.get().password_hash == ""


def test_an_admin_approves_a_pending_charger(client, tenant_a, alice):
    with scoping.scope(tenant_a):
        charger = Charger.objects.create(
            identity="NEW-1", registration_status=RegistrationStatus.PENDING
        )
    client.force_login(alice)
    client.post(page("charger_registration", pk=charger.pk), {"status": "Accepted"})
    with scoping.scope(tenant_a):
        assert Charger.objects.get().registration_status == RegistrationStatus.ACCEPTED


def test_an_operator_cannot_approve_a_charger(client, tenant_a, olga):
    with scoping.scope(tenant_a):
        charger = Charger.objects.create(
            identity="NEW-1", registration_status=RegistrationStatus.PENDING
        )
    client.force_login(olga)
    response = client.post(page("charger_registration", pk=charger.pk), {"status": "Accepted"})
    assert response.status_code == 403
    with scoping.scope(tenant_a):
        assert Charger.objects.get().registration_status == RegistrationStatus.PENDING


# --- Id token import ------------------------------------------------------------------------------


def upload(client, text):
    file = SimpleUploadedFile("tokens.csv", text.encode(), content_type="text/csv")
    return client.post(page("id_token_import"), {"file": file})


def test_an_operator_imports_tokens_with_groups(client, tenant_a, olga):
    client.force_login(olga)
    response = upload(
        client,
        "uid,type,label,group,blocked,expires_at\n"
        "04A1,ISO14443,Anna,FLEET,no,2030-01-31\n"
        "FLEET,Central,Fleet,,yes,\n",
    )
    assert response.status_code == 302
    with scoping.scope(tenant_a):
        anna = IdToken.objects.get(uid="04A1")
        assert anna.group.uid == "FLEET" and anna.expires_at.year == 2030
        assert IdToken.objects.get(uid="FLEET").blocked


def test_an_import_with_bad_rows_reports_each_and_imports_nothing(client, tenant_a, olga):
    client.force_login(olga)
    response = upload(
        client,
        "uid,type,blocked,expires_at\n"
        "GOOD1,ISO14443,no,\n"
        ",ISO14443,no,\n"
        "BAD TYPE,Martian,no,\n"
        "GOOD2,ISO14443,maybe,soon\n",
    )
    body = response.content.decode()
    assert "Row 3: uid: required" in body
    assert "Row 4: uid:" in body
    assert "Row 5: blocked:" in body
    with scoping.scope(tenant_a):
        assert not IdToken.objects.exists()


# --- Portal and platform --------------------------------------------------------------------------


def test_the_site_owner_sees_only_their_sites_chargers_and_sessions(
    client, tenant_a, site_a, paula
):
    with scoping.scope(tenant_a):
        other = Site.objects.create(name="Someone else's depot")
        make_fleet(site_a, identity="MINE-1")
        theirs = make_fleet(other, identity="THEIRS-1")
    client.force_login(paula)
    mine = client.get(reverse("portal_site", kwargs={"tenant_slug": "tenant-a", "pk": site_a.pk}))
    assert b"MINE-1" in mine.content and b"THEIRS-1" not in mine.content
    foreign = reverse("portal_export", kwargs={"tenant_slug": "tenant-a", "pk": other.pk})
    assert client.get(foreign).status_code == 404
    export = b"".join(
        client.get(
            reverse("portal_export", kwargs={"tenant_slug": "tenant-a", "pk": site_a.pk})
        ).streaming_content
    ).decode()
    assert "MINE-1" in export and "THEIRS-1" not in export
    assert theirs["session"].pk  # the other site's session exists, and stayed hidden


def test_the_portal_shows_uptime_per_connector(client, tenant_a, site_a, paula):
    with scoping.scope(tenant_a):
        charger = make_fleet(site_a)["charger"]
        now = datetime.now(UTC)
        for hours_ago, status in [(48, "Available"), (24, "Faulted"), (12, "Available")]:
            status_event(charger, status, now - timedelta(hours=hours_ago), now).save()
    client.force_login(paula)
    response = client.get(
        reverse("portal_site", kwargs={"tenant_slug": "tenant-a", "pk": site_a.pk}), {"days": "7"}
    )
    (row,) = response.context["uptimes"]
    # 12 of the 48 hours with a known status were Faulted.
    assert row["percent"] == 75.0


def test_the_platform_overview_counts_every_tenant(client, tenant_a, tenant_b, fleet, staff):
    client.force_login(staff)
    response = client.get(reverse("platform"))
    (a,) = [t for t in response.context["tenants"] if t.slug == "tenant-a"]
    assert (a.chargers, a.online, a.sessions_24h, a.open_alerts) == (1, 1, 1, 1)


def test_the_site_page_charts_energy_per_day(client, tenant_a, site_a, fleet, bob):
    client.force_login(bob)
    response = client.get(page("site_detail", pk=site_a.pk))
    assert response.context["charts"]["day"]["energy_kwh"] == [3.5]
    assert b'id="energy-day"' in response.content
    assert b"vendor/chartjs/chart.umd.min.js" in response.content


T0 = datetime(2025, 1, 1, tzinfo=UTC)
H = timedelta(hours=1)


@pytest.mark.parametrize(
    "initial,changes,expected",
    [
        ("Available", [], 1.0),
        ("Faulted", [], 0.0),
        ("Available", [(T0 + 6 * H, "Faulted"), (T0 + 12 * H, "Available")], 0.75),
        ("Unavailable", [(T0 + 12 * H, "Charging")], 0.5),
        (None, [(T0 + 12 * H, "Faulted"), (T0 + 18 * H, "Available")], 0.5),
        (None, [], None),
    ],
)
def test_uptime_is_the_share_of_known_time_not_faulted_or_unavailable(initial, changes, expected):
    assert uptime_fraction(initial, changes, T0, T0 + 24 * H) == expected


def test_a_session_closed_by_the_server_says_so_on_its_page(client, tenant_a, fleet, bob):
    session = fleet["session"]
    client.force_login(bob)
    url = page("session_detail", pk=session.pk)
    assert b"closed by the server" not in client.get(url).content
    with scoping.scope(tenant_a):
        ChargingSession.objects.filter(pk=session.pk).update(
            state="completed", stop_reason="Reboot", closed_by_server=True
        )
    body = client.get(url).content.decode()
    assert "Reboot" in body and "the charger came back without this session" in body
