"""Cursor pages: a walk through a big table meets every row exactly once, whatever the rows
share, and an order a cursor cannot keep is refused rather than served with gaps."""

import pytest
from django.urls import reverse
from django.utils import timezone

from chargers.models import MeterSample, OcppMessage, StatusEvent
from cpms.models import ApiKeyRole
from cpms.tenancy import scoping
from tests.chargers.factories import meter_sample, status_event

# More rows at one instant than DRF's cursor would ever step over (its offset stops at 1000).
TIED_ROWS = 1200


def walk(client, url, params) -> list[int]:
    """Every id a page walk returns, in order, following `next` until it is null."""
    page = client.get(url, params)
    assert page.status_code == 200, page.json()
    ids = [row["id"] for row in page.json()["results"]]
    for _ in range(TIED_ROWS):
        next_url = page.json()["next"]
        if next_url is None:
            return ids
        page = client.get(next_url)
        ids += [row["id"] for row in page.json()["results"]]
    raise AssertionError(f"the walk did not end after {len(ids)} rows")


def samples_at_one_instant(charger, tenant, at):
    # One charger, one timestamp: `context` tells the samples apart for the unique constraint.
    MeterSample.objects.bulk_create(
        meter_sample(charger, at, n, "Power.Active.Import", context=f"Sample.{n}")
        for n in range(TIED_ROWS)
    )


def status_events_at_one_instant(charger, tenant, at):
    StatusEvent.objects.bulk_create(status_event(charger, "Charging", at) for _ in range(TIED_ROWS))


@pytest.mark.parametrize(
    "route, model, make_rows",
    [
        ("api:meter-sample-list", MeterSample, samples_at_one_instant),
        ("api:status-event-list", StatusEvent, status_events_at_one_instant),
    ],
)
@pytest.mark.parametrize("ordering", [None, "id", "-id"])
def test_a_walk_through_rows_sharing_one_timestamp_meets_each_row_once(
    api, keys, world, tenant_a, route, model, make_rows, ordering
):
    with scoping.scope(tenant_a):
        make_rows(world["charger"], tenant_a, timezone.now())
        expected = sorted(model.objects.values_list("id", flat=True))
    params = {"page_size": 1000} | ({"ordering": ordering} if ordering else {})
    ids = walk(api(keys[ApiKeyRole.READ_ONLY]), reverse(route), params)
    assert len(expected) > TIED_ROWS
    assert ids == (expected if ordering == "id" else expected[::-1])


@pytest.mark.parametrize(
    "route, column",
    [
        ("api:meter-sample-list", "timestamp"),
        ("api:status-event-list", "-timestamp"),
        ("api:session-list", "started_at"),
        ("api:command-list", "charger"),
    ],
)
def test_it_refuses_to_page_by_a_column_rows_share_naming_the_field(
    api, keys, world, route, column
):
    response = api(keys[ApiKeyRole.READ_ONLY]).get(reverse(route), {"ordering": column})
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["ordering"]


@pytest.mark.parametrize("ordering", ["at", "-at"])
def test_messages_logged_at_one_instant_are_paged_by_time_then_id(
    api, keys, world, tenant_a, ordering
):
    now = timezone.now()
    with scoping.scope(tenant_a):
        for n in range(5):
            OcppMessage.objects.create(
                charger=world["charger"],
                at=now,
                incoming=True,
                message_type=2,
                unique_id=f"tie-{n}",
                action="Heartbeat",
                body=f'[2,"tie-{n}","Heartbeat",{{}}]',
            )
        tied = sorted(OcppMessage.objects.filter(at=now).values_list("id", flat=True))
    ids = walk(
        api(keys[ApiKeyRole.READ_ONLY]),
        reverse("api:ocpp-message-list"),
        {"ordering": ordering, "page_size": 2},
    )
    assert [i for i in ids if i in tied] == (tied if ordering == "at" else tied[::-1])
    assert len(ids) == len(set(ids))
