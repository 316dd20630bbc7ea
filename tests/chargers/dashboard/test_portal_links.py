"""A site owner meets no link they cannot open: every link the portal's pages show its member,
navigation included, is followed and must answer."""

import re
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from cpms.tenancy import scoping
from tests.chargers.factories import make_fleet

HREF = re.compile(r'href="([^"#]+)"')


def links_on(html: str) -> set[str]:
    return {
        href
        for href in HREF.findall(html)
        if urlsplit(href).netloc == "" and not href.startswith("/static/")
    }


@pytest.fixture
def portal_site(tenant_a, site_a):
    with scoping.scope(tenant_a):
        make_fleet(site_a, identity="MINE-1")
    return site_a


def test_every_link_a_site_owner_sees_opens_for_them(client, paula, portal_site):
    client.force_login(paula)
    start = reverse("portal_home", kwargs={"tenant_slug": "tenant-a"})
    seen, queue, broken = set(), [start], []
    while queue:
        url = queue.pop()
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url, follow=True)
        if response.status_code != 200:
            broken.append((url, response.status_code))
            continue
        if response["Content-Type"].startswith("text/html"):
            queue += sorted(links_on(response.content.decode()) - seen)

    assert broken == []
    site_page = reverse("portal_site", kwargs={"tenant_slug": "tenant-a", "pk": portal_site.pk})
    assert site_page in seen  # the walk reached the owner's site, so it walked for real


def test_the_portal_shows_the_owner_their_navigation_not_the_operators(client, paula, portal_site):
    client.force_login(paula)

    html = client.get(reverse("portal_home", kwargs={"tenant_slug": "tenant-a"})).content.decode()

    assert "My sites" in html
    assert "/t/tenant-a/" not in html
