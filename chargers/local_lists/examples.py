"""Examples of the local lists API's bodies, for the OpenAPI documentation."""

from cpms.api.examples import exchange, pick, returns

__all__ = ["exchange", "pick", "returns"]

AT = "2026-03-02T02:00:00Z"

POLICY = {
    "id": 2,
    "site": 3,
    "charger": None,
    "mode": "groups",
    "groups": [41],
    "updated_at": AT,
}
POLICY_REQUEST = pick(POLICY, "site", "mode", "groups")
POLICY_CHANGE = {"mode": "all"}

LOCAL_LIST = {
    "charger": 7,
    "identity": "CP-0007",
    "managed": True,
    "in_sync": True,
    "desired_entries": 2,
    "supported": True,
    "support_note": "",
    "capacity": 1000,
    "per_message": 100,
    "bytes_per_message": None,
    "version": 12,
    "reported_version": 12,
    "entry_count": 2,
    "step": "",
    "last_sync_at": AT,
    "last_outcome": "in_sync",
    "last_error": "",
}
ENTRIES = [
    {
        "uid": "04A1B2C3D4",
        "type": "ISO14443",
        "status": "Accepted",
        "expires_at": "2027-01-01T00:00:00Z",
        "group": "FLEET-GROUP",
    },
    {"uid": "04DEADBEEF", "type": "ISO14443", "status": "Blocked", "expires_at": "", "group": ""},
]
LOCAL_LIST_DETAIL = {**LOCAL_LIST, "entries": ENTRIES}
QUEUED = {"queued": 1, "poll": "/api/v1/local-lists/7/"}
FLEET_QUEUED = {"queued": 42, "poll": "/api/v1/local-lists/"}
