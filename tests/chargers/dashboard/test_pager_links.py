"""A list's pager links keep its filters, URL-encoded, and drop only the page number."""

import html
import re
from datetime import UTC, datetime, timedelta

from django.http import QueryDict
from django.urls import reverse

from chargers.models import OcppMessage
from cpms.paging import pager_params
from cpms.tenancy import scoping
from tests.chargers.factories import make_fleet


def test_pager_params_drop_the_page_and_encode_every_filter():
    query = QueryDict("action=A%26B%3DC&page=3&site=2")

    assert pager_params(query) == "action=A%26B%3DC&site=2"


def test_the_message_logs_next_page_keeps_an_action_that_holds_an_ampersand(
    client, tenant_a, site_a, bob
):
    start = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)
    with scoping.scope(tenant_a):
        charger = make_fleet(site_a)["charger"]
        OcppMessage.objects.bulk_create(
            OcppMessage(
                charger=charger,
                at=start + timedelta(seconds=n),
                incoming=True,
                message_type=2,
                action=action,
                body=f'"{action} {n}"',
            )
            for n in range(120)
            for action in ("Data&Transfer", "Data")
        )
    client.force_login(bob)
    url = reverse("charger_messages", kwargs={"tenant_slug": "tenant-a", "pk": charger.pk})

    first = client.get(url, {"action": "Data&Transfer"}).content.decode()
    (link,) = re.findall(r'href="\?([^"]*page=2)"', first)
    second = client.get(f"{url}?{html.unescape(link)}")

    assert second.context["action"] == "Data&Transfer"
    assert second.context["page"].number == 2
    assert len(second.context["page"].object_list) == 20
