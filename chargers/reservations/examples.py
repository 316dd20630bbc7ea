"""Examples of the reservations API's bodies, for the OpenAPI documentation."""

from cpms.api.examples import exchange, returns

__all__ = ["exchange", "returns"]

AT = "2026-03-02T08:00:00Z"

RESERVATION = {
    "id": 31,
    "charger": 12,
    "charger_identity": "CP-0012",
    "evse_id": 2,
    "id_token": "04A1B2C3D4",
    "group_id_tag": "",
    "expires_at": "2026-03-02T09:30:00Z",
    "reservation_id": 7,
    "status": "accepted",
    "charger_status": "Accepted",
    "detail": "",
    "detail_text": None,
    "created_by": "operator@example.com",
    "created_at": AT,
    "sent_at": AT,
    "command": 5120,
    "cancel_requested_at": None,
    "cancel_command": None,
    "session": None,
    "closed_at": None,
}
REQUESTED = {
    **RESERVATION,
    "status": "requested",
    "charger_status": "",
    "sent_at": None,
    "command": None,
}
CANCELLING = {**RESERVATION, "cancel_requested_at": "2026-03-02T08:20:00Z"}
REQUEST = {
    "charger": 12,
    "evse_id": 2,
    "id_token": "04A1B2C3D4",
    "expires_at": "2026-03-02T09:30:00Z",
}
