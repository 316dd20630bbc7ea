"""The dashboards' live channel: who may join, and what they hear."""

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

from chargers.alerts.texts import OFFLINE
from chargers.dashboard import live
from chargers.dashboard.push import dashboard_group
from chargers.models import Charger
from cpms.asgi import application
from cpms.events import catalogue
from cpms.models import Membership, Site
from cpms.tenancy import scoping
from tests.chargers.factories import make_fleet
from tests.chargers.portal_events import PORTAL_EVENTS

pytestmark = pytest.mark.django_db(transaction=True)
ORIGIN = (b"origin", b"http://127.0.0.1:8000")
HOST = (b"host", b"127.0.0.1:8000")


def session_cookie(user) -> bytes:
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}".encode()


async def connect(user, slug="tenant-a", origin=ORIGIN, query=""):
    headers = [HOST, origin] if origin else [HOST]
    if user is not None:
        headers.append((b"cookie", await sync_to_async(session_cookie)(user)))
    path = f"/ws/dashboard/{slug}/{query}"
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await communicator.connect()
    if not connected:
        # Let the refused consumer end the way a browser's gone socket ends it; cancelled at
        # the event loop's close instead, its channel-layer read can hang the teardown.
        await communicator.disconnect()
    return communicator, connected


async def ring(tenant, name, **data):
    await get_channel_layer().group_send(
        dashboard_group(tenant.pk), {"type": "domain.event", "name": name, "data": data}
    )


@sync_to_async
def charger_at(tenant, site, identity: str) -> int:
    """The id of a new charger at `site`, with make_fleet's rows."""
    with scoping.scope(tenant):
        return make_fleet(site, identity=identity)["charger"].pk


async def test_it_forwards_domain_events_to_a_member(tenant_a, bob):
    communicator, connected = await connect(bob)
    assert connected
    await ring(tenant_a, "charger.online", charger_id=7, identity="CP-7")
    message = await communicator.receive_json_from(timeout=30)
    assert message == {"name": "charger.online", "data": {"charger_id": 7, "identity": "CP-7"}}
    await communicator.disconnect()


async def test_events_pushed_together_reach_the_page_one_by_one_in_order(tenant_a, bob):
    communicator, connected = await connect(bob)
    assert connected
    events = [{"name": "charger.online", "data": {"charger_id": n}} for n in (3, 1, 2)]
    await get_channel_layer().group_send(
        dashboard_group(tenant_a.pk), {"type": "domain.events", "events": events}
    )
    heard = [await communicator.receive_json_from(timeout=30) for _ in events]
    assert heard == events
    await communicator.disconnect()


async def test_an_alert_s_title_reaches_a_page_in_its_own_language(tenant_a, bob):
    # The title is stored as a message code: a German page hears it in German, a page in a
    # language the server does not speak hears the English as stored.
    title = OFFLINE(charger="CP-7")
    german, connected = await connect(bob, query="?lang=de")
    other, also = await connect(bob, query="?lang=xx")
    assert connected and also
    await ring(tenant_a, "alert.opened", title="CP-7 is offline", title_text=title)

    heard = (await german.receive_json_from(timeout=30))["data"]["title"]
    as_stored = (await other.receive_json_from(timeout=30))["data"]["title"]

    assert heard == "CP-7 ist offline" and as_stored == "CP-7 is offline"
    await german.disconnect()
    await other.disconnect()


async def test_it_refuses_charlie_from_another_tenant(tenant_a, charlie):
    communicator, connected = await connect(charlie)
    assert not connected


async def test_it_refuses_anonymous_visitors(tenant_a):
    communicator, connected = await connect(None)
    assert not connected


async def test_it_refuses_an_unknown_tenant(tenant_a, alice):
    communicator, connected = await connect(alice, slug="no-such-tenant")
    assert not connected


async def test_it_refuses_a_foreign_origin(tenant_a, alice):
    communicator, connected = await connect(alice, origin=(b"origin", b"https://evil.example"))
    assert not connected


async def test_it_refuses_a_foreign_origin_when_every_host_is_allowed(tenant_a, alice, settings):
    settings.ALLOWED_HOSTS = ["*"]
    communicator, connected = await connect(alice, origin=(b"origin", b"https://evil.example"))
    assert not connected
    communicator, connected = await connect(alice)  # a page of the site itself
    assert connected
    await communicator.disconnect()


async def test_it_gives_charlie_only_his_own_tenants_events(tenant_a, tenant_b, charlie):
    communicator, connected = await connect(charlie, slug="tenant-b")
    assert connected
    await ring(tenant_a, "charger.online", charger_id=1, identity="A-SECRET")
    await ring(tenant_b, "charger.online", charger_id=2, identity="B-OWN")
    # Tenant A's event was sent first: had it reached charlie, it would come first.
    message = await communicator.receive_json_from(timeout=30)
    assert message["data"]["identity"] == "B-OWN"
    await communicator.disconnect()


@sync_to_async
def mine_and_someone_elses(tenant, site) -> tuple[int, int]:
    """The ids of a charger at `site` and of one at another site of the tenant."""
    with scoping.scope(tenant):
        other = Site.objects.create(name="Someone else's depot")
        mine = make_fleet(site, identity="MINE")["charger"]
        theirs = make_fleet(other, identity="THEIRS")["charger"]
        return mine.pk, theirs.pk


async def test_a_site_owner_hears_only_of_chargers_at_their_sites(tenant_a, site_a, paula):
    mine, theirs = await mine_and_someone_elses(tenant_a, site_a)
    communicator, connected = await connect(paula)
    assert connected
    await ring(tenant_a, "charger.online", charger_id=theirs, identity="THEIRS")
    await ring(tenant_a, "alert.opened", charger_id=mine, title="operations only")
    await ring(tenant_a, "charger.online", charger_id=mine, identity="MINE")
    # The socket handles its messages in order: the first it passes on is the first it may.
    message = await communicator.receive_json_from(timeout=30)
    assert message["data"]["identity"] == "MINE"
    await communicator.disconnect()


async def test_a_site_owner_hears_only_of_their_chargers_in_events_pushed_together(
    tenant_a, site_a, paula
):
    mine, theirs = await mine_and_someone_elses(tenant_a, site_a)
    communicator, connected = await connect(paula)
    assert connected
    events = [
        {"name": "charger.online", "data": {"charger_id": theirs, "identity": "THEIRS"}},
        {"name": "alert.opened", "data": {"charger_id": mine, "title": "operations only"}},
        {"name": "charger.online", "data": {"charger_id": mine, "identity": "MINE"}},
        {"name": "charger.online", "data": {"charger_id": mine, "identity": "LAST"}},
    ]
    await get_channel_layer().group_send(
        dashboard_group(tenant_a.pk), {"type": "domain.events", "events": events}
    )
    heard = [await communicator.receive_json_from(timeout=30) for _ in range(2)]
    assert [message["data"]["identity"] for message in heard] == ["MINE", "LAST"]
    await communicator.disconnect()


async def test_a_site_owner_never_hears_of_commands_to_their_own_chargers(tenant_a, site_a, paula):
    mine = await charger_at(tenant_a, site_a, "MINE")
    communicator, connected = await connect(paula)
    assert connected
    # Operations news: a command's outcome may concern configuration values.
    await ring(tenant_a, "command.finished", command_id=1, charger_id=mine, status="answered")
    await ring(tenant_a, "charger.online", charger_id=mine, identity="MINE")
    assert (await communicator.receive_json_from(timeout=30))["name"] == "charger.online"
    await communicator.disconnect()


async def test_a_site_owner_hears_only_the_events_their_portal_may_show(tenant_a, site_a, paula):
    mine = await charger_at(tenant_a, site_a, "MINE")
    communicator, connected = await connect(paula)
    assert connected
    for cls in catalogue():
        await ring(tenant_a, cls.name, charger_id=mine)
    # The socket handles its messages in order: once the last one is heard, all were handled.
    await ring(tenant_a, "charger.online", charger_id=mine, identity="LAST")
    heard = []
    while (message := await communicator.receive_json_from(timeout=30))["data"] != {
        "charger_id": mine,
        "identity": "LAST",
    }:
        heard.append(message["name"])
    await communicator.disconnect()
    assert len(heard) == len(set(heard))
    assert set(heard) == {cls.name for cls in catalogue() if cls.portal}
    assert set(heard) == PORTAL_EVENTS


async def test_a_started_session_is_pushed_with_what_the_tables_need(tenant_a, site_a, bob):
    from django.utils import timezone

    from chargers.models import Charger
    from chargers.services.sessions import session_start

    def start():
        with scoping.scope(tenant_a):
            charger = Charger.objects.create(identity="CP-PUSH", site=site_a)
            answer = session_start(
                charger_id=charger.pk,
                connector_id=1,
                id_tag="<b>TAG</b>",
                meter_start=1000,
                timestamp=timezone.now(),
            )
            return charger.pk, answer.session.pk

    communicator, connected = await connect(bob)
    assert connected
    charger_id, session_id = await sync_to_async(start)()
    message = await communicator.receive_json_from(timeout=30)
    assert message["name"] == "session.started"
    data = message["data"]
    assert (data["session_id"], data["charger_id"]) == (session_id, charger_id)
    assert data["id_tag"] == "<b>TAG</b>" and data["state"] == "active"
    await communicator.disconnect()


def charger_pk(tenant, identity: str) -> int:
    with scoping.scope(tenant):
        return Charger.objects.get(identity=identity).pk


async def test_a_site_owner_stops_hearing_of_a_charger_moved_off_their_site(
    tenant_a, site_a, paula, monkeypatch
):
    monkeypatch.setattr(live, "READMIT_AFTER", 0)

    def fleet():
        with scoping.scope(tenant_a):
            make_fleet(site_a, identity="STAYS")
            return make_fleet(site_a, identity="MOVED")["charger"].pk

    def move(charger_id):
        with scoping.scope(tenant_a):
            other = Site.objects.create(name="Someone else's depot")
            Charger.objects.filter(pk=charger_id).update(site=other)

    charger_id = await sync_to_async(fleet)()
    communicator, connected = await connect(paula)
    assert connected
    await ring(tenant_a, "charger.online", charger_id=charger_id, identity="MOVED")
    assert (await communicator.receive_json_from(timeout=30))["data"]["charger_id"] == charger_id
    await sync_to_async(move)(charger_id)
    await ring(tenant_a, "charger.offline", charger_id=charger_id, identity="MOVED")
    stays = await sync_to_async(charger_pk)(tenant_a, "STAYS")
    await ring(tenant_a, "charger.offline", charger_id=stays, identity="STAYS")
    # In order: the charger still on her site is heard, the moved one was not before it.
    assert (await communicator.receive_json_from(timeout=30))["data"]["identity"] == "STAYS"
    await communicator.disconnect()


async def test_a_site_owner_hears_of_a_charger_placed_on_their_site_without_reconnecting(
    tenant_a, site_a, paula, monkeypatch
):
    monkeypatch.setattr(live, "READMIT_AFTER", 0)
    communicator, connected = await connect(paula)
    assert connected

    def place():
        with scoping.scope(tenant_a):
            return make_fleet(site_a, identity="NEW")["charger"].pk

    charger_id = await sync_to_async(place)()
    await ring(tenant_a, "charger.online", charger_id=charger_id, identity="NEW")
    assert (await communicator.receive_json_from(timeout=30))["data"]["identity"] == "NEW"
    await communicator.disconnect()


async def test_a_member_whose_membership_ended_is_cut_off(tenant_a, bob, monkeypatch):
    monkeypatch.setattr(live, "READMIT_AFTER", 0)
    communicator, connected = await connect(bob)
    assert connected

    def remove():
        with scoping.scope(tenant_a):
            Membership.objects.filter(user=bob).delete()

    await sync_to_async(remove)()
    await ring(tenant_a, "charger.online", charger_id=7, identity="CP-7")
    assert (await communicator.receive_output(timeout=30))["type"] == "websocket.close"
    await communicator.disconnect()
