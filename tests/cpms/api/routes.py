"""The API's route table: every route and method with the key role it needs.

The matrix tests are built from this table, and a test walks the URLconf: a route or method
without an entry here fails the suite.
"""

from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from chargers.certificates import crypto
from cpms.models import Role
from tests.chargers.reservations.world import reservation_body

READ, OPERATE, ADMIN = Role.VIEWER, Role.OPERATOR, Role.ADMIN


def _charger(world):
    return {"charger": world["charger"].pk, "action": "clear_cache"}


def _new_tariff(world):
    elements = [{"price_components": [{"type": "ENERGY", "price": 0.39, "step_size": 1}]}]
    return {"name": "Public AC", "currency": "EUR", "elements": elements}


def _price_request(world):
    return {
        "start": "2026-03-06T17:40:00+01:00",
        "charging_end": "2026-03-06T19:10:00+01:00",
        "end": "2026-03-06T19:50:00+01:00",
        "energy_kwh": 22,
    }


def _campaign(world):
    return {"name": "Weekend rollout", "image": world["firmware_image"].pk}


def _new_sub_ca(world):
    made = crypto.new_authority(organization="Tenant A PKI", now=timezone.now())
    key = made.sub_ca_key.private_bytes(
        crypto.serialization.Encoding.PEM,
        crypto.serialization.PrivateFormat.PKCS8,
        crypto.serialization.NoEncryption(),
    )
    return {"certificate": crypto.pem_of(made.sub_ca), "key": key.decode()}


def _install_root(world):
    return {
        "kind": "install",
        "chargers": [world["charger"].pk],
        "root_kind": "csms_root",
        "certificate": world["root_pem"],
    }


# (route name, method) -> (role needed, world object in the URL or None, body or query)
# A body may be a function of the world, for ids that only exist once the world does.
ROUTES = {
    ("site-list", "get"): (READ, None, None),
    ("site-list", "post"): (ADMIN, None, {"name": "Depot", "timezone": "UTC"}),
    ("site-detail", "get"): (READ, "site", None),
    ("site-detail", "put"): (ADMIN, "site", {"name": "Renamed", "timezone": "UTC"}),
    ("site-detail", "patch"): (ADMIN, "site", {"name": "Renamed"}),
    ("site-detail", "delete"): (ADMIN, "site", None),
    ("site-owner-list", "get"): (READ, None, None),
    ("site-owner-list", "post"): (ADMIN, None, {"name": "Depot GmbH"}),
    ("site-owner-detail", "get"): (READ, "owner", None),
    ("site-owner-detail", "put"): (ADMIN, "owner", {"name": "Renamed GmbH"}),
    ("site-owner-detail", "patch"): (ADMIN, "owner", {"contact_phone": "+49 40 1"}),
    ("site-owner-detail", "delete"): (ADMIN, "owner", None),
    ("member-list", "get"): (ADMIN, None, None),
    ("member-list", "post"): (ADMIN, None, {"email": "eve@a.test", "role": "viewer"}),
    ("member-detail", "get"): (ADMIN, "membership", None),
    ("member-detail", "put"): (ADMIN, "membership", {"email": "bob@a.test", "role": "operator"}),
    ("member-detail", "patch"): (ADMIN, "membership", {"role": "operator"}),
    ("member-detail", "delete"): (ADMIN, "membership", None),
    ("api-key-list", "get"): (ADMIN, None, None),
    ("api-key-list", "post"): (ADMIN, None, {"name": "Reporting", "role": "read_only"}),
    ("api-key-detail", "get"): (ADMIN, "spare_key", None),
    ("api-key-revoke", "post"): (ADMIN, "spare_key", None),
    ("charger-list", "get"): (READ, None, None),
    ("charger-list", "post"): (ADMIN, None, {"identity": "CP-NEW"}),
    ("charger-detail", "get"): (READ, "charger", None),
    ("charger-detail", "patch"): (ADMIN, "charger", {"site": None}),
    ("charger-detail", "delete"): (ADMIN, "spare_charger", None),
    ("charger-rotate-password", "post"): (ADMIN, "charger", {}),
    ("charger-settings", "get"): (ADMIN, None, None),
    ("charger-settings", "patch"): (ADMIN, None, {"heartbeat_interval": 60}),
    ("charger-settings-onboarding", "post"): (ADMIN, None, {}),
    ("charger-settings-onboarding", "delete"): (ADMIN, None, None),
    ("billing-settings", "get"): (ADMIN, None, None),
    ("billing-settings", "patch"): (ADMIN, None, {"cost_update_seconds": 120}),
    ("charger-approve", "post"): (ADMIN, "spare_charger", None),
    ("charger-reject", "post"): (ADMIN, "charger", None),
    ("charger-connectors", "get"): (READ, "charger", None),
    ("charger-export", "get"): (READ, None, None),
    ("alert-list", "get"): (READ, None, None),
    ("alert-detail", "get"): (READ, "alert", None),
    ("alert-export", "get"): (READ, None, None),
    ("alert-acknowledge", "post"): (OPERATE, "alert", {"note": "Technician on the way"}),
    ("audit-list", "get"): (ADMIN, None, None),
    ("audit-detail", "get"): (ADMIN, "audit_entry", None),
    ("audit-export", "get"): (ADMIN, None, None),
    ("session-list", "get"): (READ, None, None),
    ("session-detail", "get"): (READ, "session", None),
    ("session-export", "get"): (READ, None, None),
    ("meter-sample-list", "get"): (READ, None, None),
    ("meter-sample-series", "get"): (READ, None, lambda w: {"charger": w["charger"].pk}),
    ("status-event-list", "get"): (READ, None, None),
    ("ocpp-message-list", "get"): (READ, None, None),
    ("connection-list", "get"): (READ, None, None),
    ("device-model-variable-list", "get"): (READ, None, None),
    ("id-token-list", "get"): (READ, None, None),
    ("id-token-list", "post"): (OPERATE, None, {"uid": "04NEW"}),
    ("id-token-detail", "get"): (READ, "id_token", None),
    ("id-token-detail", "patch"): (OPERATE, "id_token", {"blocked": True}),
    ("id-token-detail", "delete"): (OPERATE, "id_token", None),
    ("id-token-export", "get"): (READ, None, None),
    ("id-token-bulk-upsert", "post"): (OPERATE, None, {"tokens": [{"uid": "04AABBCC"}]}),
    ("command-list", "get"): (READ, None, None),
    ("command-list", "post"): (OPERATE, None, _charger),
    ("command-detail", "get"): (READ, "command", None),
    ("tariff-list", "get"): (READ, None, None),
    ("tariff-list", "post"): (ADMIN, None, _new_tariff),
    ("tariff-detail", "get"): (READ, "tariff", None),
    ("tariff-detail", "patch"): (ADMIN, "tariff", {"name": "Renamed"}),
    ("tariff-detail", "delete"): (ADMIN, "tariff", None),
    ("tariff-price", "post"): (READ, "tariff", _price_request),
    ("tariff-assignment-list", "get"): (READ, None, None),
    ("tariff-assignment-list", "post"): (ADMIN, None, lambda w: {"tariff": w["tariff"].pk}),
    ("tariff-assignment-detail", "get"): (READ, "tariff_assignment", None),
    ("tariff-assignment-detail", "patch"): (ADMIN, "tariff_assignment", {"priority": 5}),
    ("tariff-assignment-detail", "delete"): (ADMIN, "tariff_assignment", None),
    ("cdr-list", "get"): (READ, None, None),
    ("cdr-detail", "get"): (READ, "cdr", None),
    ("cdr-export", "get"): (READ, None, None),
    ("customer-list", "get"): (READ, None, None),
    ("customer-list", "post"): (ADMIN, None, {"name": "Harbour Logistics"}),
    ("customer-detail", "get"): (READ, "customer", None),
    ("customer-detail", "patch"): (ADMIN, "customer", {"city": "Hamburg"}),
    ("customer-detail", "delete"): (ADMIN, "spare_customer", None),
    ("invoice-list", "get"): (READ, None, None),
    ("invoice-detail", "get"): (READ, "invoice", None),
    ("invoice-credit", "post"): (ADMIN, "invoice", {"reason": "Miscalibrated"}),
    ("invoice-export", "get"): (READ, None, None),
    ("invoice-pdf", "get"): (READ, "invoice", None),
    ("invoice-lines-export", "get"): (READ, "invoice", None),
    ("site-share-list", "get"): (READ, None, None),
    ("site-share-list", "post"): (
        ADMIN,
        None,
        lambda w: {"site": w["spare_site"].pk, "revenue_share_percent": "30.00"},
    ),
    ("site-share-detail", "get"): (READ, "site_share", None),
    ("site-share-detail", "patch"): (ADMIN, "site_share", {"monthly_fee": "25.00"}),
    ("site-share-detail", "delete"): (ADMIN, "site_share", None),
    ("statement-list", "get"): (READ, None, None),
    ("statement-detail", "get"): (READ, "statement", None),
    ("statement-pdf", "get"): (READ, "statement", None),
    ("firmware-image-list", "get"): (READ, None, None),
    (
        "firmware-image-list",
        "post",
    ): (
        ADMIN,
        None,
        {
            "vendor": "Acme",
            "model": "AC22",
            "version": "3.0.0",
            "external_url": "https://fw.test/3",
        },
    ),
    ("firmware-image-detail", "get"): (READ, "firmware_image", None),
    ("firmware-image-detail", "delete"): (ADMIN, "spare_firmware_image", None),
    ("firmware-campaign-list", "get"): (READ, None, None),
    ("firmware-campaign-list", "post"): (ADMIN, None, _campaign),
    ("firmware-campaign-detail", "get"): (READ, "campaign", None),
    ("firmware-campaign-start", "post"): (ADMIN, "campaign", None),
    ("firmware-campaign-pause", "post"): (ADMIN, "running_campaign", None),
    ("firmware-campaign-resume", "post"): (ADMIN, "paused_campaign", None),
    ("firmware-campaign-cancel", "post"): (ADMIN, "running_campaign", None),
    ("firmware-target-list", "get"): (READ, None, None),
    ("firmware-target-detail", "get"): (READ, "campaign_target", None),
    ("diagnostics-list", "get"): (READ, None, None),
    ("diagnostics-list", "post"): (OPERATE, None, lambda w: {"charger": w["charger"].pk}),
    ("diagnostics-detail", "get"): (READ, "diagnostics", None),
    ("diagnostics-download", "get"): (READ, "diagnostics", None),
    ("reservation-list", "get"): (READ, None, None),
    ("reservation-list", "post"): (OPERATE, None, reservation_body),
    ("reservation-detail", "get"): (READ, "reservation", None),
    ("reservation-cancel", "post"): (OPERATE, "reservation", None),
    ("certificate-authority", "get"): (READ, None, None),
    ("certificate-authority", "post"): (ADMIN, None, {}),
    ("certificate-authority-import", "post"): (ADMIN, None, _new_sub_ca),
    ("certificate-settings", "get"): (ADMIN, None, None),
    ("certificate-settings", "patch"): (ADMIN, None, {"renew_days": 14}),
    ("certificate-list", "get"): (READ, None, None),
    ("certificate-detail", "get"): (READ, "issued_certificate", None),
    ("certificate-request-list", "get"): (READ, None, None),
    ("certificate-request-detail", "get"): (READ, "signing_request", None),
    ("certificate-rotation-list", "post"): (OPERATE, None, lambda w: {"charger": w["charger"].pk}),
    ("installed-certificate-list", "get"): (READ, None, None),
    ("installed-certificate-detail", "get"): (READ, "installed_certificate", None),
    ("certificate-operation-list", "get"): (READ, None, None),
    ("certificate-operation-list", "post"): (OPERATE, None, _install_root),
    ("certificate-operation-detail", "get"): (READ, "certificate_operation", None),
    ("plug-and-charge-settings", "get"): (ADMIN, None, None),
    ("plug-and-charge-settings", "patch"): (ADMIN, None, {"ocsp_mode": "remote"}),
    ("v2g-authority", "get"): (READ, None, None),
    ("contract-certificate-list", "get"): (READ, None, None),
    ("contract-certificate-list", "post"): (OPERATE, None, {"emaid": "DE-AAA-C00000002-2"}),
    ("contract-certificate-detail", "get"): (READ, "contract_certificate", None),
    ("contract-certificate-revoke", "post"): (OPERATE, "contract_certificate", None),
    ("ev-certificate-request-list", "get"): (READ, None, None),
    ("ev-certificate-request-detail", "get"): (READ, "ev_certificate_request", None),
    ("webhook-endpoint-list", "get"): (ADMIN, None, None),
    (
        "webhook-endpoint-list",
        "post",
    ): (ADMIN, None, {"url": "https://h.test/x", "event_types": ["charger.online"]}),
    ("webhook-endpoint-detail", "get"): (ADMIN, "endpoint", None),
    ("webhook-endpoint-detail", "patch"): (ADMIN, "endpoint", {"is_active": False}),
    ("webhook-endpoint-detail", "delete"): (ADMIN, "endpoint", None),
    ("webhook-endpoint-rotate-secret", "post"): (ADMIN, "endpoint", None),
    ("webhook-delivery-list", "get"): (ADMIN, None, None),
    ("webhook-delivery-detail", "get"): (ADMIN, "delivery", None),
    ("webhook-delivery-replay", "post"): (ADMIN, "delivery", None),
}


# Load management (chargers/smart_charging): the tree and the limits are an admin's, a
# session's needs an operator's.
ROUTES.update(
    {
        ("grid-connection-list", "get"): (READ, None, None),
        ("grid-connection-list", "post"): (
            ADMIN,
            None,
            lambda w: {"site": w["site"].pk, "grid_limit_a": "40.0"},
        ),
        ("grid-connection-detail", "get"): (READ, "grid_connection", None),
        ("grid-connection-detail", "patch"): (ADMIN, "grid_connection", {"sharing": "need"}),
        ("grid-connection-detail", "delete"): (ADMIN, "grid_connection", None),
        ("circuit-list", "get"): (READ, None, None),
        ("circuit-list", "post"): (
            ADMIN,
            None,
            lambda w: {"site": w["site"].pk, "name": "Board C", "limit_a": "20.0"},
        ),
        ("circuit-detail", "get"): (READ, "circuit", None),
        ("circuit-detail", "patch"): (ADMIN, "circuit", {"limit_a": "35.0"}),
        ("circuit-detail", "delete"): (ADMIN, "circuit", None),
        ("charger-wiring-list", "get"): (READ, None, None),
        ("charger-wiring-list", "post"): (
            ADMIN,
            None,
            lambda w: {"charger": w["charger"].pk, "max_current_a": "16.0"},
        ),
        ("charger-wiring-detail", "get"): (READ, "wiring", None),
        ("charger-wiring-detail", "patch"): (ADMIN, "wiring", {"phases": "L2"}),
        ("charger-wiring-detail", "delete"): (ADMIN, "wiring", None),
        ("grid-limit-window-list", "get"): (READ, None, None),
        ("grid-limit-window-list", "post"): (
            ADMIN,
            None,
            lambda w: {"site": w["site"].pk, "starts": "07:00", "ends": "09:00", "limit_a": "20"},
        ),
        ("grid-limit-window-detail", "get"): (READ, "limit_window", None),
        ("grid-limit-window-detail", "patch"): (ADMIN, "limit_window", {"limit_a": "25.0"}),
        ("grid-limit-window-detail", "delete"): (ADMIN, "limit_window", None),
        ("limit-signal-list", "get"): (READ, None, None),
        ("limit-signal-list", "post"): (
            ADMIN,
            None,
            lambda w: {"site": w["site"].pk, "limit_a": "20", "expires_at": "2099-01-01T00:00Z"},
        ),
        ("limit-signal-detail", "get"): (READ, "limit_signal", None),
        ("limit-signal-detail", "delete"): (ADMIN, "limit_signal", None),
        ("session-needs-list", "get"): (READ, None, None),
        ("session-needs-list", "post"): (
            OPERATE,
            None,
            lambda w: {"session": w["session"].pk, "priority": 2},
        ),
        ("session-needs-detail", "get"): (READ, "session_needs", None),
        ("session-needs-detail", "patch"): (OPERATE, "session_needs", {"priority": 3}),
        ("session-needs-detail", "delete"): (OPERATE, "session_needs", None),
        ("load-plan-detail", "get"): (READ, "site", None),
        ("group-priority-list", "get"): (READ, None, None),
        ("group-priority-list", "post"): (
            ADMIN,
            None,
            lambda w: {"group": w["session"].id_token_id, "priority": 4},
        ),
        ("group-priority-detail", "get"): (READ, "group_priority", None),
        ("group-priority-detail", "patch"): (ADMIN, "group_priority", {"priority": 6}),
        ("group-priority-detail", "delete"): (ADMIN, "group_priority", None),
        ("charging-profile-report-list", "get"): (READ, None, None),
        ("charging-profile-report-detail", "get"): (READ, "profiles_report", None),
    }
)


# Local authorization lists: the policy is an admin's, "sync now" an operator's.
ROUTES.update(
    {
        ("local-list-policy-list", "get"): (READ, None, None),
        ("local-list-policy-list", "post"): (
            ADMIN,
            None,
            lambda w: {"charger": w["spare_charger"].pk, "mode": "none"},
        ),
        ("local-list-policy-detail", "get"): (READ, "local_list_policy", None),
        ("local-list-policy-detail", "patch"): (ADMIN, "local_list_policy", {"mode": "none"}),
        ("local-list-policy-detail", "delete"): (ADMIN, "local_list_policy", None),
        ("local-list-list", "get"): (READ, None, None),
        ("local-list-detail", "get"): (READ, "charger", None),
        ("local-list-sync", "post"): (OPERATE, "charger", None),
        ("local-list-sync-fleet", "post"): (OPERATE, None, {}),
    }
)


def _config_template(world):
    return {
        "name": "Fleet defaults B",
        "protocol": "1.6",
        "entries": [{"key": "MeterValueSampleInterval", "value": "60"}],
    }


# Configuration templates (chargers/configuration): templates are an admin's, applying them
# an operator's.
ROUTES.update(
    {
        ("config-template-list", "get"): (READ, None, None),
        ("config-template-list", "post"): (ADMIN, None, _config_template),
        ("config-template-detail", "get"): (READ, "config_template", None),
        ("config-template-detail", "put"): (ADMIN, "config_template", _config_template),
        ("config-template-detail", "patch"): (ADMIN, "config_template", {"name": "Renamed"}),
        ("config-template-detail", "delete"): (ADMIN, "spare_config_template", None),
        ("config-template-apply", "post"): (
            OPERATE,
            "config_template",
            lambda w: {"chargers": [w["charger"].pk]},
        ),
        ("config-apply-run-list", "get"): (READ, None, None),
        ("config-apply-run-detail", "get"): (READ, "config_apply_run", None),
        ("config-drift-list", "get"): (READ, None, None),
        ("config-drift-detail", "get"): (READ, "config_drift", None),
        ("charger-configuration-detail", "get"): (READ, "charger", None),
    }
)


def api_routes() -> set[tuple[str, str]]:
    """Every (route name, method) the URLconf serves under /api/v1/, HEAD and OPTIONS aside."""
    found = set()

    def walk(patterns, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and namespace == "api":
                view = pattern.callback
                methods = getattr(view, "actions", None)
                if methods is None:
                    allowed = getattr(view.cls, "http_method_names", [])
                    methods = {m: m for m in allowed if hasattr(view.cls, m)}
                served = view.cls.http_method_names
                for method in methods:
                    if method in served and method not in ("head", "options"):
                        found.add((pattern.name, method))

    walk(get_resolver().url_patterns, None)
    return found
