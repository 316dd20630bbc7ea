"""Secrets never reach the message log or the command audit: they are replaced before storing."""

import copy

MASK = "********"
SECRET_KEYS_16 = {"AuthorizationKey"}
SECRET_VARIABLES_201 = {"BasicAuthPassword"}
REDACTED_ACTIONS = frozenset(
    {"ChangeConfiguration", "GetConfiguration", "SetVariables", "SetNetworkProfile"}
)


def redact_payload(action: str | None, payload: object, *, response: bool = False) -> object:
    """A copy of a CALL or CALLRESULT payload with secret values masked."""
    if not isinstance(payload, dict) or not action:
        return payload
    if action == "ChangeConfiguration" and not response and payload.get("key") in SECRET_KEYS_16:
        return {**payload, "value": MASK}
    if action == "GetConfiguration" and response:
        masked = copy.deepcopy(payload)
        for entry in masked.get("configurationKey") or []:
            if isinstance(entry, dict) and entry.get("key") in SECRET_KEYS_16 and "value" in entry:
                entry["value"] = MASK
        return masked
    if action == "SetVariables" and not response:
        masked = copy.deepcopy(payload)
        for item in masked.get("setVariableData") or []:
            variable = (item.get("variable") or {}).get("name") if isinstance(item, dict) else None
            if variable in SECRET_VARIABLES_201:
                item["attributeValue"] = MASK
        return masked
    if action == "SetNetworkProfile" and not response:
        masked = copy.deepcopy(payload)
        connection = masked.get("connectionData") or {}
        if "basicAuthPassword" in connection:
            connection["basicAuthPassword"] = MASK
        return masked
    return payload
