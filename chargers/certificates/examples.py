"""Examples of the certificates API's bodies, for the OpenAPI documentation."""

from cpms.api.examples import exchange, pick, returns

__all__ = ["exchange", "pick", "returns"]

AT = "2026-03-02T02:00:00Z"
LATER = "2027-03-02T02:00:00Z"
PEM = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU...\n-----END CERTIFICATE-----\n"
CSR = "-----BEGIN CERTIFICATE REQUEST-----\nMIHzMIGaAgEA...\n-----END CERTIFICATE REQUEST-----\n"
KEY = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49...\n-----END PRIVATE KEY-----\n"
SHA = "5d41402abc4b2a76b9719d911017c5925d41402abc4b2a76b9719d911017c592"

AUTHORITY = {
    "id": 2,
    "source": "built_in",
    "subject": "CN=Tenant A CPO Sub-CA,O=Tenant A",
    "fingerprint": SHA,
    "not_after": "2030-03-01T02:00:00Z",
    "certificate_pem": PEM,
    "chain_pem": PEM,
    "created_at": AT,
}
IMPORTED = {**AUTHORITY, "id": 3, "source": "imported", "subject": "CN=Acme CPO Sub-CA,O=Acme"}
IMPORT_REQUEST = {"certificate": PEM + PEM, "key": KEY}
SETTINGS = {"renew_days": 30, "pin_issued": False}
ISSUED = {
    "id": 41,
    "charger": 12,
    "charger_identity": "ACME-0042",
    "use": "charging_station",
    "serial": "3f1c9a2b7d",
    "subject": "CN=ACME-0042,O=Acme",
    "issuer": "CN=Tenant A CPO Sub-CA,O=Tenant A",
    "not_before": AT,
    "not_after": LATER,
    "fingerprint": SHA,
    "state": "installed",
    "pem": PEM,
    "created_at": AT,
}
REQUEST = {
    "id": 17,
    "charger": 12,
    "charger_identity": "ACME-0042",
    "use": "charging_station",
    "state": "rejected",
    "reason": "the CSR's CN is 'ACME-0043', not the charger's id 'ACME-0042'",
    "certificate": None,
    "command": None,
    "csr_pem": CSR,
    "created_at": AT,
}
ROTATION = {"charger": 12, "command": 901, "status": "sent"}
INSTALLED = {
    "id": 5,
    "charger": 12,
    "charger_identity": "ACME-0042",
    "kind": "csms_root",
    "hash_algorithm": "SHA256",
    "issuer_name_hash": SHA,
    "issuer_key_hash": SHA,
    "serial_number": "1a2b3c",
    "subject": "CN=Tenant A Root CA,O=Tenant A",
    "seen_at": AT,
}
OPERATION = {
    "id": 77,
    "batch": "9c1f0e3a5b7d2c4e",
    "charger": 12,
    "charger_identity": "ACME-0042",
    "kind": "install",
    "root_kind": "csms_root",
    "hash_data": {},
    "state": "sent",
    "detail": "",
    "command": 902,
    "created_at": AT,
}
OPERATION_REQUEST = {
    "kind": "install",
    "site": 3,
    "root_kind": "csms_root",
    "certificate": PEM,
}

# --- Plug & Charge ---
EMAID = "DE-ABC-C12345678-9"
CONTRACT = {
    "id": 5,
    "emaid": EMAID,
    "id_token": 31,
    "charger": 12,
    "serial": "4c1d0f9e2a",
    "issuer_name_hash": SHA,
    "issuer_key_hash": SHA,
    "not_before": AT,
    "not_after": "2028-03-01T02:00:00Z",
    "fingerprint": SHA,
    "state": "valid",
    "revoked_at": None,
    "pem": PEM,
    "created_at": AT,
}
REVOKED = {**CONTRACT, "state": "revoked", "revoked_at": LATER}
CONTRACT_REQUEST = {"emaid": EMAID}
EV_REQUEST = {
    "id": 8,
    "charger": 12,
    "charger_identity": "ACME-0042",
    "action": "install",
    "provider": "local",
    "emaid": EMAID,
    "status": "accepted",
    "reason": "",
    "contract": 5,
    "created_at": AT,
}
PNC_SETTINGS = {
    "provider": "remote",
    "remote_url": "https://pnc.example.com/v1/ccp/install",
    "remote_username": "cpo-acme",
    "remote_secret_set": True,
    "remote_timeout": 20,
    "ocsp_mode": "remote",
    "trusted_roots_pem": "",
    "token_group": 30,
}
PNC_CHANGE = {
    "provider": "remote",
    "remote_url": "https://pnc.example.com/v1/ccp/install",
    "remote_username": "cpo-acme",
    "remote_secret": "s3cret-from-the-provider",
}
V2G_AUTHORITY = {
    "root_pem": PEM,
    "mo_pem": PEM,
    "mo_subject": "CN=Tenant A MO Sub-CA,O=Tenant A",
    "mo_fingerprint": SHA,
    "not_after": "2030-03-01T02:00:00Z",
    "created_at": AT,
}
