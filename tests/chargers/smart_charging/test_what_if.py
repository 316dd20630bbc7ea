"""The what-if page: EVs an operator enters are planned on the site's real tree by the same
allocator as the live plan, nothing is stored or sent, and bad input is refused by field."""

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.urls import reverse

from chargers.models import Command
from chargers.smart_charging.allocation import (
    PHASES,
    Connector,
    Node,
    Problem,
    Session,
    Settings,
    allocate,
)
from chargers.smart_charging.models import LoadPlan, SentProfile, SiteElectrical
from cpms.tenancy import scoping

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def url(depot):
    return reverse("site_load_what_if", kwargs={"tenant_slug": "tenant-a", "pk": depot["site"].pk})


def key(charger):
    return f"{charger.pk}/1"


def post(client, depot, rows, rows_shown=4, **page):
    """POST the what-if with `rows` (dicts of an EV's fields) and the page's fields."""
    data = {"ev-TOTAL_FORMS": str(rows_shown), "ev-INITIAL_FORMS": "0",
            "ev-MIN_NUM_FORMS": "0", "ev-MAX_NUM_FORMS": "100", **page}  # fmt: skip
    for n, row in enumerate(rows):
        data.update({f"ev-{n}-{name}": value for name, value in row.items()})
    return client.post(url(depot), data)


def depot_connectors(depot, **changed):
    """The depot's six connectors as the allocator sees them, with `changed` by key."""
    return [
        changed.get(key(c), Connector(key(c), "grid", PHASES, 6.0, 32.0)) for c in depot["chargers"]
    ]


def shown(response):
    """{label: (limit, reason)} of the EVs the page shows."""
    return {ev["label"]: (ev["limit_a"], ev["reason"]) for ev in response.context["result"]["evs"]}


def planned(plan):
    return {a.connector: (a.limit_a, a.reason) for a in plan.allocations}


def test_two_evs_get_what_the_allocator_gives_them_on_the_sites_tree(client, depot, bob):
    first = depot["chargers"][0]
    client.force_login(bob)
    response = post(
        client,
        depot,
        [{"place": f"connector:{key(first)}", "max_a": "16"},
         {"place": "node:grid", "phases": "L1", "priority": "2"}],
    )  # fmt: skip
    assert response.status_code == 200
    expected = allocate(
        Problem(
            nodes=[Node("grid", "grid connection", 32.0)],
            connectors=[
                *depot_connectors(depot, **{key(first): Connector(key(first), "grid", max_a=16)}),
                Connector("what-if:EV 2", "grid", ("L1",), 6.0, 32.0),
            ],
            sessions=[Session(key(first)), Session("what-if:EV 2", priority=2)],
            settings=Settings(sharing="equal"),
        )
    )
    by_key = planned(expected)
    assert shown(response) == {
        "EV 1: CP-1 · EVSE 1": by_key[key(first)],
        "EV 2: A new charger on grid connection": by_key["what-if:EV 2"],
    }
    assert by_key["what-if:EV 2"] == (
        16.0,
        "limited to 16 A: grid connection at 32 A shared by 2 sessions; priority 2",
    )
    nodes = response.context["result"]["nodes"]
    assert nodes == [
        {"name": "grid connection", "depth": 0, "limit_a": 32.0,
         "load": [(p, expected.load["grid"][p]) for p in PHASES]},
    ]  # fmt: skip


def test_the_current_sessions_are_the_starting_point_under_another_grid_limit(client, depot, olga):
    client.force_login(olga)
    response = post(client, depot, [{"place": "node:grid"}], keep_sessions="on", grid_limit_a="40")
    current = [
        Session(key(c), session_id=s.pk, draw_a=11000 / 690)
        for c, s in zip(depot["chargers"], depot["sessions"], strict=True)
    ]
    expected = planned(
        allocate(
            Problem(
                nodes=[Node("grid", "grid connection", 40.0)],
                connectors=[*depot_connectors(depot), Connector("what-if:EV 1", "grid")],
                sessions=[*current, Session("what-if:EV 1")],
            )
        )
    )
    labels = {key(c): f"{c.identity} · EVSE 1 (charging now)" for c in depot["chargers"]}
    labels["what-if:EV 1"] = "EV 1: A new charger on grid connection"
    assert shown(response) == {labels[k]: value for k, value in expected.items()}
    # Seven EVs on 40 A: six get their minimum, one waits its turn.
    assert sum(1 for limit, _ in expected.values() if limit == 0) == 1
    assert response.context["result"]["grid_limit_a"] == 40.0
    assert response.context["result"]["grid_source"] == "as entered"


def test_an_evs_need_before_departure_reaches_the_allocator(client, depot, bob, tenant_a):
    with scoping.scope(tenant_a):
        SiteElectrical.objects.filter(site=depot["site"]).update(sharing="need")
    client.force_login(bob)
    leaves = (NOW + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")  # the site is in UTC
    with mock.patch("django.utils.timezone.now", return_value=NOW):
        response = post(
            client,
            depot,
            [{"place": "node:grid", "departure": leaves, "energy_kwh": "20"},
             {"place": "node:grid", "departure": leaves, "energy_kwh": "5"}],
        )  # fmt: skip
    expected = planned(
        allocate(
            Problem(
                nodes=[Node("grid", "grid connection", 32.0)],
                connectors=[
                    *depot_connectors(depot),
                    Connector("what-if:EV 1", "grid"),
                    Connector("what-if:EV 2", "grid"),
                ],
                sessions=[
                    Session("what-if:EV 1", need_a=20000 / 2 / 690),
                    Session("what-if:EV 2", need_a=5000 / 2 / 690),
                ],
                settings=Settings(sharing="need"),
            )
        )
    )
    assert [limit for limit, _ in shown(response).values()] == [
        expected["what-if:EV 1"][0],
        expected["what-if:EV 2"][0],
    ]
    assert expected["what-if:EV 1"][0] > expected["what-if:EV 2"][0]


def counts(tenant):
    with scoping.scope(tenant):
        return LoadPlan.objects.count(), SentProfile.objects.count(), Command.objects.count()


def test_a_what_if_stores_nothing_and_sends_nothing(client, depot, alice, tenant_a):
    client.force_login(alice)
    response = post(
        client,
        depot,
        [{"place": "node:grid", "max_a": "16"}, {"place": "node:grid", "phases": "L2"}],
        keep_sessions="on",
        grid_limit_a="20",
    )
    assert response.status_code == 200 and len(response.context["result"]["evs"]) == 8
    # No plan, no profile and no command: a command to a charger is recorded before it goes.
    assert counts(tenant_a) == (0, 0, 0)


@pytest.mark.parametrize(
    ("rows", "page", "row", "field", "message"),
    [
        ([{"place": "connector:999999/1"}], {}, 0, "place", "Select a valid choice."),
        ([{"place": "node:grid", "min_a": "20", "max_a": "10"}], {}, 0, "min_a",
         "Above the maximum."),
        ([{"place": "node:grid", "max_a": "-5"}], {}, 0, "max_a",
         "Ensure this value is greater than or equal to 0."),
        ([{"place": "node:grid", "min_a": "-1"}], {}, 0, "min_a",
         "Ensure this value is greater than or equal to 0."),
        ([{"place": "node:grid", "max_a": "0"}], {}, 0, "max_a", "Above 0 A."),
        ([{"place": "node:grid", "priority": "11"}], {}, 0, "priority",
         "Ensure this value is less than or equal to 10."),
        ([{"place": "node:grid", "energy_kwh": "10"}], {}, 0, "departure",
         "Needed with the energy: when the EV leaves."),
        ([{"place": "node:grid", "departure": "2001-01-01T08:00"}], {}, 0, "departure",
         "Choose a time in the future."),
        ([{"min_a": "8"}], {}, 0, "place", "This field is required."),
        ([{"place": "CONNECTOR"}, {"place": "CONNECTOR"}], {}, 1, "place",
         "Another row has this connector."),
        ([{"place": "CONNECTOR"}], {"keep_sessions": "on"}, 0, "place",
         "CP-1 · EVSE 1 is charging a session now: choose another connector, or leave the "
         "current sessions out."),
    ],
)  # fmt: skip
def test_bad_input_is_refused_naming_the_field_and_nothing_is_planned(
    client, depot, alice, tenant_a, rows, page, row, field, message
):
    connector = f"connector:{key(depot['chargers'][0])}"
    rows = [{k: connector if v == "CONNECTOR" else v for k, v in r.items()} for r in rows]
    client.force_login(alice)
    response = post(client, depot, rows, **page)
    assert response.status_code == 200
    assert message in " ".join(response.context["formset"].forms[row].errors[field])
    assert message in response.content.decode().replace("&#x27;", "'")
    assert response.context["result"] is None
    assert counts(tenant_a) == (0, 0, 0)


@pytest.mark.parametrize(
    ("page", "message"),
    [({"grid_limit_a": "0"}, "Above 0 A."), ({"grid_limit_a": "x"}, "Enter a number.")],
)
def test_a_bad_grid_limit_is_refused(client, depot, alice, page, message):
    client.force_login(alice)
    response = post(client, depot, [{"place": "node:grid"}], **page)
    assert response.context["form"].errors["grid_limit_a"] == [message]
    assert response.context["result"] is None


def test_a_scenario_needs_an_ev_or_the_current_sessions(client, depot, alice):
    client.force_login(alice)
    response = post(client, depot, [])
    assert response.context["formset"].non_form_errors() == [
        "Add an EV, or start from the current sessions."
    ]
    assert response.context["result"] is None


def test_the_current_sessions_alone_show_what_the_control_loop_would_do(client, depot, alice):
    client.force_login(alice)
    response = post(client, depot, [], keep_sessions="on")
    assert len(response.context["result"]["evs"]) == 6


def test_more_rows_keeps_what_was_entered(client, depot, alice):
    client.force_login(alice)
    response = post(client, depot, [{"place": "node:grid", "max_a": "16"}], more="1")
    formset = response.context["formset"]
    assert formset.total_form_count() == 8
    assert formset.forms[0]["max_a"].value() == "16"
    assert response.context["result"] is None


def test_the_page_offers_every_connector_and_a_new_charger_below_every_node(client, depot, bob):
    client.force_login(bob)
    page = client.get(url(depot))
    assert page.status_code == 200
    choices = dict(page.context["formset"].forms[0].fields["place"].choices)
    assert choices["node:grid"] == "A new charger on grid connection"
    assert [choices[f"connector:{key(c)}"] for c in depot["chargers"]] == [
        f"CP-{n} · EVSE 1" for n in range(1, 7)
    ]


def test_a_site_owner_may_not_ask(client, depot, paula):
    client.force_login(paula)
    assert client.get(url(depot)).status_code == 403
    assert post(client, depot, [{"place": "node:grid"}]).status_code == 403


def test_charlie_gets_404_asking_and_posting(client, depot, charlie, tenant_a):
    client.force_login(charlie)
    assert client.get(url(depot)).status_code == 404
    assert post(client, depot, [{"place": "node:grid"}], keep_sessions="on").status_code == 404
    assert counts(tenant_a) == (0, 0, 0)
