"""Examples of the firmware API's bodies, for the OpenAPI documentation."""

from cpms.api.examples import download, exchange, pick, returns

__all__ = ["download", "exchange", "pick", "returns"]

AT = "2026-03-02T02:00:00Z"
LATER = "2026-03-02T02:40:00Z"
SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

IMAGE = {
    "id": 4,
    "vendor": "Acme",
    "model": "AC22",
    "version": "2.4.1",
    "has_file": True,
    "file_name": "acme-ac22-2.4.1.bin",
    "size": 7340032,
    "sha256": SHA,
    "external_url": "",
    "signature": "",
    "signing_certificate": "",
    "is_signed": False,
    "notes": "Fixes the RCD self-test",
    "created_at": AT,
}
EXTERNAL_IMAGE = {
    **IMAGE,
    "id": 5,
    "version": "2.5.0",
    "has_file": False,
    "file_name": "",
    "size": None,
    "sha256": "",
    "external_url": "https://firmware.acme.example/ac22/2.5.0.bin",
}
IMAGE_REQUEST = pick(EXTERNAL_IMAGE, "vendor", "model", "version", "external_url", "notes")

WAVE = {
    "number": 0,
    "is_canary": True,
    "size": 5,
    "state": "done",
    "counts": {"succeeded": 5},
    "progress_percent": 100,
    "started_at": AT,
    "finished_at": LATER,
}
CAMPAIGN = {
    "id": 9,
    "name": "AC22 to 2.4.1",
    "image": 4,
    "version": "2.4.1",
    "state": "running",
    "sites": [3],
    "from_versions": ["2.3.0"],
    "tags": ["depot"],
    "canary_size": 5,
    "batch_size": None,
    "batch_percent": 20,
    "max_in_flight": 50,
    "failure_threshold_percent": 10,
    "window_start": "01:00:00",
    "window_end": "05:00:00",
    "defer_minutes": 240,
    "send_after_deferral": True,
    "download_timeout_minutes": 30,
    "install_timeout_minutes": 30,
    "boot_timeout_minutes": 15,
    "max_attempts": 2,
    "retry_delay_minutes": 10,
    "paused_reason": "",
    "paused_reason_text": None,
    "created_at": AT,
    "started_at": AT,
    "finished_at": None,
    "counts": {"succeeded": 5, "downloading": 12, "pending": 83},
    "waves": [
        WAVE,
        {
            **WAVE,
            "number": 1,
            "is_canary": False,
            "size": 20,
            "state": "running",
            "counts": {"downloading": 12, "pending": 8},
            "progress_percent": 0,
            "finished_at": None,
        },
    ],
}
CAMPAIGN_REQUEST = pick(
    CAMPAIGN,
    "name",
    "image",
    "sites",
    "from_versions",
    "tags",
    "canary_size",
    "batch_percent",
    "max_in_flight",
    "failure_threshold_percent",
    "window_start",
    "window_end",
    "defer_minutes",
)
DRAFT_CAMPAIGN = {
    **CAMPAIGN,
    "state": "draft",
    "started_at": None,
    "counts": {},
    "waves": [],
}
PAUSED_CAMPAIGN = {
    **CAMPAIGN,
    "state": "paused",
    "paused_reason": "Wave 1: 3 of 20 chargers failed, more than 10%.",
    "paused_reason_text": {
        "code": "firmware.wave_failed",
        "params": {
            "wave": {"code": "firmware.wave", "params": {"number": 1}},
            "failed": 3,
            "size": 20,
            "threshold": 10,
        },
    },
}
OPERATOR_PAUSED_CAMPAIGN = {
    **PAUSED_CAMPAIGN,
    "paused_reason": "Paused by an operator.",
    "paused_reason_text": {"code": "firmware.paused", "params": {}},
}
BOOTED_OLD = {
    "code": "firmware.booted_old",
    "params": {"said": "Installed", "version": "2.3.0", "wanted": "2.4.1"},
}
TARGET = {
    "id": 310,
    "campaign": 9,
    "charger": 12,
    "charger_identity": "ACME-0042",
    "wave": 1,
    "from_version": "2.3.0",
    "state": "failed",
    "attempt": 2,
    "last_status": "Installed",
    "failure_reason": "Reported Installed but booted on 2.3.0, not 2.4.1.",
    "failure_reason_text": BOOTED_OLD,
    "started_at": AT,
    "finished_at": LATER,
    "timeline": [
        {
            "at": AT,
            "attempt": 1,
            "state": "sending",
            "detail": "Attempt 1.",
            "detail_text": {"code": "firmware.attempt", "params": {"number": 1}},
        },
        {
            "at": "2026-03-02T02:01:10Z",
            "attempt": 1,
            "state": "downloading",
            "detail": "The charger reported Downloading.",
            "detail_text": {"code": "firmware.reported", "params": {"status": "Downloading"}},
        },
        {
            "at": LATER,
            "attempt": 2,
            "state": "failed",
            "detail": "Reported Installed but booted on 2.3.0, not 2.4.1.",
            "detail_text": BOOTED_OLD,
        },
    ],
}
DIAGNOSTICS = {
    "id": 21,
    "charger": 12,
    "charger_identity": "ACME-0042",
    "state": "uploaded",
    "last_status": "Uploaded",
    "error": "",
    "file_name": "diagnostics-ACME-0042-20260302T020000Z.txt",
    "size": 48213,
    "sha256": SHA,
    "has_file": True,
    "created_at": AT,
    "uploaded_at": LATER,
    "keep_until": "2026-04-01T02:40:00Z",
}
DIAGNOSTICS_REQUEST = {"charger": 12}
NEW_DIAGNOSTICS = {
    **DIAGNOSTICS,
    "state": "requested",
    "last_status": "",
    "file_name": "",
    "size": None,
    "sha256": "",
    "has_file": False,
    "uploaded_at": None,
    "keep_until": None,
}
LOG_FILE = "charger ACME-0042 (Acme AC22)\nfirmware 2.4.1, OCPP 1.6\n"
