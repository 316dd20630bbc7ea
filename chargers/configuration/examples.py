"""Examples of the configuration API's bodies, for the OpenAPI documentation."""

from cpms.api.examples import exchange, pick, returns

__all__ = ["exchange", "pick", "returns"]

AT = "2026-03-02T02:00:00Z"
LATER = "2026-03-02T02:00:04Z"

KEY_ENTRY = {
    "setting": "HeartbeatInterval",
    "key": "HeartbeatInterval",
    "component": "",
    "component_instance": "",
    "evse_id": 0,
    "connector_id": 0,
    "variable": "",
    "variable_instance": "",
    "attribute_type": "Actual",
    "value": "300",
}
TEMPLATE = {
    "id": 3,
    "name": "Acme AC22 defaults",
    "protocol": "1.6",
    "vendor": "Acme",
    "model": "AC22",
    "site": None,
    "applies_to": "Acme / AC22",
    "rank": 3,
    "entries": [
        KEY_ENTRY,
        {**KEY_ENTRY, "setting": "MeterValueSampleInterval", "key": "MeterValueSampleInterval"},
    ],
    "created_at": AT,
    "updated_at": AT,
}
TEMPLATE_REQUEST = {
    "name": "Acme AC22 defaults",
    "protocol": "1.6",
    "vendor": "Acme",
    "model": "AC22",
    "entries": [
        {"key": "HeartbeatInterval", "value": "300"},
        {"key": "MeterValueSampleInterval", "value": "300"},
    ],
}
V201_TEMPLATE_REQUEST = {
    "name": "Depot 7",
    "protocol": "2.0.1",
    "site": 7,
    "entries": [
        {"component": "OCPPCommCtrlr", "variable": "HeartbeatInterval", "value": "300"},
        {"component": "EVSE", "evse_id": 1, "variable": "Power", "attribute_type": "MaxSet",
         "value": "11000"},
    ],
}  # fmt: skip

RESULT = {
    "charger": 12,
    "charger_identity": "CP-12",
    "state": "reboot_required",
    "items": [
        {"setting": "HeartbeatInterval", "value": "300", "status": "accepted"},
        {"setting": "MeterValueSampleInterval", "value": "300", "status": "reboot_required"},
    ],
    "detail": "",
    "detail_text": None,
    "finished_at": LATER,
}
RUN = {
    "id": 21,
    "template": 3,
    "template_name": "Acme AC22 defaults",
    "state": "done",
    "counts": {"reboot_required": 1},
    "results": [RESULT],
    "created_at": AT,
    "finished_at": LATER,
}
NEW_RUN = {
    **RUN,
    "state": "running",
    "counts": {"pending": 1},
    "results": [{**RESULT, "state": "pending", "items": [], "finished_at": None}],
    "finished_at": None,
}
APPLY_REQUEST = {"chargers": [12]}

DRIFT = {
    "id": 40,
    "charger": 12,
    "charger_identity": "CP-12",
    "setting": "MeterValueSampleInterval",
    "desired": "300",
    "actual": "60",
    "missing": False,
    "reboot_required": False,
    "template": 3,
    "template_name": "Acme AC22 defaults",
    "since": AT,
}
CHARGER_CONFIGURATION = {
    "charger": 12,
    "charger_identity": "CP-12",
    "protocol": "1.6",
    "read": True,
    "drift_count": 1,
    "settings": [
        {
            "setting": "HeartbeatInterval",
            "desired": "300",
            "actual": "300",
            "template": 3,
            "template_name": "Acme AC22 defaults",
            "drift": False,
            "missing": False,
            "reboot_required": False,
            "since": None,
        },
        {
            "setting": "MeterValueSampleInterval",
            "desired": "300",
            "actual": "60",
            "template": 3,
            "template_name": "Acme AC22 defaults",
            "drift": True,
            "missing": False,
            "reboot_required": False,
            "since": AT,
        },
    ],
}
