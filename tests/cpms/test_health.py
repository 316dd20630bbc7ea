"""Liveness and readiness: no login, no tenant data, 503 naming the part that is down (each
part's setting pointed at a closed port inside the test; the services keep running)."""

import socket

import pytest
from django.db import connections


@pytest.fixture
def closed_port():
    """A local port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_liveness_answers_without_a_login_or_the_database(client):
    answer = client.get("/health/live")
    assert answer.status_code == 200
    assert answer.json()["status"] == "ok"
    assert "no-cache" in answer["Cache-Control"]


@pytest.mark.django_db
def test_readiness_answers_200_with_every_part_reachable(client, settings):
    answer = client.get("/health/ready")
    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert body["status"] == "ok" and body["failed"] == []
    expected = {"database"} if settings.EMBEDDED else {"database", "channel_layer", "broker"}
    assert set(body["checks"]) == expected


@pytest.mark.django_db
def test_readiness_names_the_broker_when_it_is_unreachable(client, settings, closed_port):
    if settings.EMBEDDED:
        pytest.skip("the embedded broker lives in this process")
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed_port}/0"
    answer = client.get("/health/ready")
    assert answer.status_code == 503
    assert answer.json()["failed"] == ["broker"]


@pytest.mark.django_db
def test_readiness_names_the_channel_layer_when_redis_is_unreachable(client, settings, closed_port):
    if settings.EMBEDDED:
        pytest.skip("the embedded channel layer lives in this process")
    layer = {**settings.CHANNEL_LAYERS["default"]}
    layer["CONFIG"] = {"hosts": [{"address": f"redis://127.0.0.1:{closed_port}/0"}]}
    settings.CHANNEL_LAYERS = {"default": layer}
    answer = client.get("/health/ready")
    assert answer.status_code == 503
    assert answer.json()["failed"] == ["channel_layer"]


@pytest.mark.django_db
def test_readiness_names_the_database_when_it_is_unreachable(
    client, monkeypatch, closed_port, tmp_path
):
    database = connections.settings["default"]
    pools: dict = {}
    if database["ENGINE"] == "cpms.postgresql":
        # The check's thread opens its own connection from these settings, through a pool
        # made for them (the real pool stays as it is, aside).
        wrapper = type(connections["default"])
        monkeypatch.setattr(wrapper, "_connection_pools", pools)
        monkeypatch.setitem(database, "PORT", str(closed_port))
        monkeypatch.setitem(database, "OPTIONS", {**database["OPTIONS"], "pool": {"timeout": 1}})
    else:
        monkeypatch.setitem(database, "NAME", str(tmp_path / "missing" / "db.sqlite3"))
    try:
        answer = client.get("/health/ready")
    finally:
        for pool in pools.values():
            pool.close()
    assert answer.status_code == 503
    assert answer.json()["failed"] == ["database"]
