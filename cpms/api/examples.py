"""What the API documentation shows: one realistic body per resource, and the request and
response examples every operation carries (tests/cpms/api/test_schema.py fails when one lacks
them or when an example does not match its schema).

Resource bodies are attached to their serializers (every response that returns the resource
shows it, lists wrapped in their pagination envelope); write operations name their request
and response at the view with `exchange()`.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample

AT = "2026-03-02T09:30:00Z"
LATER = "2026-03-02T10:45:12Z"

SITE_OWNER = {
    "id": 2,
    "name": "Mall GmbH",
    "contact_email": "facility@mall.example.com",
    "contact_phone": "+49 40 1234567",
    "created_at": AT,
}
SITE = {
    "id": 3,
    "name": "Mall Hamburg",
    "site_owner": 2,
    "street": "Jungfernstieg 1",
    "postal_code": "20354",
    "city": "Hamburg",
    "country": "DE",
    "latitude": "53.553400",
    "longitude": "9.992600",
    "timezone": "Europe/Berlin",
    "grid_limit_kw": "150.00",
    "created_at": AT,
}
MEMBER = {
    "id": 9,
    "email": "eve@example.com",
    "role": "viewer",
    "site_owner": None,
    "created_at": AT,
    "accepted_at": AT,
}
API_KEY = {
    "id": 7,
    "name": "Reporting",
    "role": "read_only",
    "prefix": "cpms_k3x9q2ab",
    "active": True,
    "created_by": "alice@example.com",
    "created_at": AT,
    "expires_at": None,
    "revoked_at": None,
    "last_used_at": LATER,
}
CONNECTOR = {
    "evse_id": 1,
    "connector_id": 1,
    "status": "Charging",
    "error_code": "NoError",
    "info": "",
    "vendor_id": "",
    "vendor_error_code": "",
    "status_at": LATER,
}
CHARGER = {
    "id": 12,
    "identity": "ACME-0042",
    "site": 3,
    "security_profile": 1,
    "certificate_fingerprint": "",
    "registration_status": "Accepted",
    "tags": ["depot"],
    "ocpp_version": "1.6",
    "state": "charging",
    "vendor": "ACME",
    "model": "Wallbox 22",
    "serial_number": "SN-000042",
    "firmware_version": "1.4.2",
    "is_online": True,
    "last_seen": LATER,
    "connected_at": AT,
    "last_boot_at": AT,
    "connectors": [CONNECTOR],
    "created_at": "2026-01-10T08:00:00Z",
}
NEW_CHARGER = {
    **CHARGER,
    "registration_status": "Pending",
    "tags": [],
    "ocpp_version": "",
    "state": "pending",
    "vendor": "",
    "model": "",
    "serial_number": "",
    "firmware_version": "",
    "is_online": False,
    "last_seen": None,
    "connected_at": None,
    "last_boot_at": None,
    "connectors": [],
    "created_at": AT,
    "password": "q7Lr2VbX9sKpTw4nZy8mHc3dFg6jRt1e",
}
SESSION = {
    "id": 77,
    "charger": 12,
    "charger_identity": "ACME-0042",
    "site": 3,
    "evse_id": 1,
    "connector_id": 1,
    "transaction_id": "1042",
    "state": "completed",
    "id_token": 31,
    "id_tag": "04A1B2C3",
    "auth_status": "Accepted",
    "started_at": AT,
    "stopped_at": LATER,
    "meter_start_wh": "120500.000",
    "meter_stop_wh": "135730.000",
    "energy_wh": "15230.000",
    "power_w": None,
    "stop_reason": "EVDisconnected",
    "closed_by_server": False,
    "integrity": [],
    "updated_at": LATER,
}
METER_SAMPLE = {
    "id": 5501,
    "charger": 12,
    "session": 77,
    "evse_id": 1,
    "timestamp": LATER,
    "measurand": "Energy.Active.Import.Register",
    "phase": "",
    "location": "Outlet",
    "context": "Sample.Periodic",
    "unit": "Wh",
    "value": "135730.000000",
}
SERIES_POINT = {
    "bucket": "2026-03-02T10:00:00Z",
    "measurand": "Power.Active.Import",
    "phase": "",
    "unit": "W",
    "avg": "10850.500000",
    "min": "9800.000000",
    "max": "11040.000000",
    "count": 12,
}
STATUS_EVENT = {
    "id": 880,
    "charger": 12,
    "evse_id": 1,
    "connector_id": 1,
    "status": "Charging",
    "error_code": "NoError",
    "info": "",
    "vendor_error_code": "",
    "timestamp": AT,
    "received_at": AT,
}
OCPP_MESSAGE = {
    "id": 120044,
    "charger": 12,
    "at": AT,
    "incoming": True,
    "message_type": 2,
    "unique_id": "5f1c6a2e-7b1d-4c8e-9a0f-1d2e3f4a5b6c",
    "action": "StatusNotification",
    "body": '[2,"5f1c6a2e-7b1d-4c8e-9a0f-1d2e3f4a5b6c","StatusNotification",'
    '{"connectorId":1,"errorCode":"NoError","status":"Charging"}]',
}
CONNECTION = {
    "id": 4410,
    "charger": 12,
    "connected_at": AT,
    "disconnected_at": LATER,
    "ocpp_version": "1.6",
    "remote_addr": "203.0.113.24",
    "close_reason": "closed by the charger (1006)",
}
DEVICE_MODEL_VARIABLE = {
    "id": 640,
    "charger": 14,
    "component": "OCPPCommCtrlr",
    "component_instance": "",
    "evse_id": 0,
    "connector_id": 0,
    "variable": "HeartbeatInterval",
    "variable_instance": "",
    "attribute_type": "Actual",
    "value": "300",
    "mutability": "ReadWrite",
    "persistent": True,
    "constant": False,
    "characteristics": {"dataType": "integer", "unit": "s"},
    "updated_at": AT,
}
ID_TOKEN = {
    "id": 31,
    "uid": "04A1B2C3",
    "type": "ISO14443",
    "label": "Van 12",
    "group": None,
    "blocked": False,
    "expires_at": None,
    "created_at": AT,
}
COMMAND = {
    "id": 901,
    "charger": 12,
    "charger_identity": "ACME-0042",
    "action": "Reset",
    "payload": {"type": "Soft"},
    "status": "answered",
    "response": {"status": "Accepted"},
    "error": "",
    "requested_by": "alice@example.com",
    "source": "api:cpms_k3x9q2ab",
    "created_at": AT,
    "sent_at": AT,
    "completed_at": "2026-03-02T09:30:01Z",
    "duration_ms": 412,
}
QUEUED_COMMAND = {
    **COMMAND,
    "id": 902,
    "action": "ClearCache",
    "payload": {},
    "status": "queued",
    "response": None,
    "sent_at": None,
    "completed_at": None,
    "duration_ms": None,
}
OFFLINE_COMMAND = {
    **QUEUED_COMMAND,
    "id": 903,
    "status": "offline",
    "error": "The charger is not connected.",
    "completed_at": AT,
    "duration_ms": 3,
}
ALERT = {
    "id": 55,
    "kind": "connector_faulted",
    "severity": "critical",
    "title": "ACME-0042 connector 1 faulted: GroundFailure",
    "detail": "Earth leakage",
    "title_text": {
        "code": "alert.connector_faulted",
        "params": {"charger": "ACME-0042", "evse": 1, "code": "GroundFailure"},
    },
    "detail_text": None,
    "charger": 12,
    "charger_identity": "ACME-0042",
    "evse_id": 1,
    "connector_id": 1,
    "session": None,
    "opened_at": AT,
    "acknowledged_at": None,
    "acknowledged_by": None,
    "acknowledgement_note": "",
    "resolved_at": None,
    "is_open": True,
}
ACKNOWLEDGED_ALERT = {
    **ALERT,
    "acknowledged_at": LATER,
    "acknowledged_by": "olga@example.com",
    "acknowledgement_note": "Technician on the way",
}
WEBHOOK_ENDPOINT = {
    "id": 4,
    "url": "https://billing.example.com/hooks/cpms",
    "description": "Billing",
    "event_types": ["session.started", "session.stopped"],
    "is_active": True,
    "created_at": AT,
}
WEBHOOK_ENDPOINT_WITH_SECRET = {
    **WEBHOOK_ENDPOINT,
    "secret": "whsec_3q8VnX0bLr7TmZ2kPw5sYc9dHf4gJa6e",
}
WEBHOOK_DELIVERY = {
    "id": 310,
    "endpoint": 4,
    "event_id": "8e0e1b4c-2f0e-4a43-9a53-8d8f1f3f0a11",
    "event_type": "session.stopped",
    "payload": {
        "id": "8e0e1b4c-2f0e-4a43-9a53-8d8f1f3f0a11",
        "type": "session.stopped",
        "created": "2026-03-02T10:45:12.418305+00:00",
        "data": {
            "session_id": 77,
            "charger_id": 12,
            "transaction_id": "1042",
            "evse_id": 1,
            "id_tag": "04A1B2C3",
            "state": "completed",
            "energy_wh": "15230.000",
            "power_w": None,
            "started_at": "2026-03-02T09:30:00+00:00",
            "stopped_at": "2026-03-02T10:45:12+00:00",
            "stop_reason": "EVDisconnected",
        },
    },
    "status": "delivered",
    "attempt_count": 2,
    "next_attempt_at": None,
    "replay_of": None,
    "created_at": LATER,
    "delivered_at": "2026-03-02T10:45:44Z",
    "attempts": [
        {
            "at": "2026-03-02T10:45:13Z",
            "status_code": 503,
            "error": "",
            "response_body": "Service Unavailable",
            "duration_ms": 121,
        },
        {
            "at": "2026-03-02T10:45:44Z",
            "status_code": 200,
            "error": "",
            "response_body": "ok",
            "duration_ms": 87,
        },
    ],
}
REPLAYED_DELIVERY = {
    **WEBHOOK_DELIVERY,
    "id": 311,
    "status": "pending",
    "attempt_count": 0,
    "next_attempt_at": "2026-03-02T11:00:00Z",
    "replay_of": 310,
    "created_at": "2026-03-02T11:00:00Z",
    "delivered_at": None,
    "attempts": [],
}
SESSIONS_CSV = (
    "session_id,charger,site,evse_id,connector_id,transaction_id,id_token,state,started_at,"
    "stopped_at,energy_kwh,stop_reason,integrity\r\n"
    "77,ACME-0042,Mall Hamburg,1,1,1042,04A1B2C3,completed,2026-03-02T10:30:00+01:00,"
    "2026-03-02T11:45:12+01:00,15.230,EVDisconnected,\r\n"
)

CHARGERS_CSV = (
    "identity,site,vendor,model,serial_number,charge_box_serial_number,firmware_version,"
    "ocpp_version,security_profile,registration_status,state,last_seen,connectors,open_alerts,"
    "tags\r\n"
    "ACME-0042,Mall Hamburg,Acme,AC22,SN-42,,3.1.0,1.6,1,Accepted,charging,"
    "2026-03-02T10:31:05+01:00,2,0,depot beta-firmware\r\n"
)
ALERTS_CSV = (
    "alert_id,kind,severity,charger,site,evse_id,connector_id,title,detail,opened_at,"
    "acknowledged_at,acknowledged_by,acknowledgement_note,resolved_at\r\n"
    "12,charger_offline,critical,ACME-0042,Mall Hamburg,,,ACME-0042 is offline,"
    "No message for 10 minutes,2026-03-02T10:30:00+01:00,2026-03-02T10:41:00+01:00,"
    "alice@example.com,Technician on the way,\r\n"
)
ID_TOKENS_CSV = (
    "uid,type,label,group,blocked,expires_at,created_at\r\n"
    "04A1B2C3,ISO14443,Van 12,FLEET-1,no,,2026-01-15T09:00:00+01:00\r\n"
)


def returns(summary: str, value, *statuses: int) -> OpenApiExample:
    """A resource as responses carry it (for `extend_schema_serializer`)."""
    codes = [str(s) for s in statuses or (200, 201)]
    return OpenApiExample(summary, value=value, response_only=True, status_codes=codes)


def exchange(summary: str, *, request=None, response=None, status: int = 200) -> list:
    """A request and the response it gets, for a view's `extend_schema(examples=...)`."""
    found = []
    if request is not None:
        found.append(OpenApiExample(summary, value=request, request_only=True))
    if response is not None:
        found.append(
            OpenApiExample(summary, value=response, response_only=True, status_codes=[str(status)])
        )
    return found


def download(summary: str, value: str, media_type: str) -> list:
    """A file the operation answers with (a CSV export, a PDF), for `extend_schema(examples=)`."""
    return [
        OpenApiExample(
            summary, value=value, response_only=True, media_type=media_type, status_codes=["200"]
        )
    ]


def pick(value: dict, *keys: str) -> dict:
    """The writable part of a resource body, for request examples."""
    return {key: value[key] for key in keys}
