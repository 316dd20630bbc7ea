"""OCPP payloads as on the wire, for the tests that send them to a charger or the server:
charging profiles of both versions, 2.0.1 local list entries."""


def profile_16(limit: float = 16.0) -> dict:
    """A 1.6 csChargingProfiles: the default profile, absolute, `limit` amperes from the start."""
    return {
        "chargingProfileId": 1,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
        },
    }


def profile_201(
    profile_id: int, purpose: str, limit: float, unit: str = "A", *, kind="Absolute", **extra
) -> dict:
    """A 2.0.1 chargingProfile, as on the wire, with one limit from the start (stack level 0
    unless `extra` says otherwise)."""
    schedule = {
        "id": profile_id,
        "chargingRateUnit": unit,
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
    }
    return {
        "id": profile_id,
        "stackLevel": 0,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": kind,
        **extra,
        "chargingSchedule": [schedule],
    }


def local_list_entry_201(id_token: str) -> dict:
    """A 2.0.1 local authorization list entry: an ISO14443 token, accepted."""
    return {
        "idToken": {"idToken": id_token, "type": "ISO14443"},
        "idTokenInfo": {"status": "Accepted"},
    }
