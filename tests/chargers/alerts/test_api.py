"""Alerts through the API: acknowledged once with a note, listed open or resolved."""


def test_an_operator_acknowledges_an_alert_once_with_a_note(world, keys, api):
    url = f"/api/v1/alerts/{world['alert'].pk}/acknowledge/"
    first = api(keys["operator"]).post(url, {"note": "Technician on the way"}, format="json")
    assert first.status_code == 200
    assert first.json()["acknowledgement_note"] == "Technician on the way"
    assert first.json()["acknowledged_at"] is not None
    again = api(keys["operator"]).post(url, {"note": "twice"}, format="json")
    assert again.status_code == 400 and "acknowledged already" in again.json()["error"]["message"]


def test_open_alerts_are_filtered_from_resolved_ones(world, keys, api):
    listed = api(keys["read_only"]).get("/api/v1/alerts/?open=true").json()
    assert [a["id"] for a in listed["results"]] == [world["alert"].pk]
    assert api(keys["read_only"]).get("/api/v1/alerts/?open=false").json()["results"] == []
