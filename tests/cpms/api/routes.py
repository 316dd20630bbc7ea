"""The API's route table: every route and method with the key role it needs.

The matrix tests are built from this table, and a test walks the URLconf: a route or method
without an entry here fails the suite.
"""

from django.urls import URLPattern, URLResolver, get_resolver

from cpms.models import Role

READ, OPERATE, ADMIN = Role.VIEWER, Role.OPERATOR, Role.ADMIN


def _charger(world):
    return {"charger": world["charger"].pk, "action": "clear_cache"}


def _campaign(world):
    return {"name": "Weekend rollout", "image": world["firmware_image"].pk}


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
    ("charger-approve", "post"): (ADMIN, "spare_charger", None),
    ("charger-reject", "post"): (ADMIN, "charger", None),
    ("charger-connectors", "get"): (READ, "charger", None),
    ("alert-list", "get"): (READ, None, None),
    ("alert-detail", "get"): (READ, "alert", None),
    ("alert-acknowledge", "post"): (OPERATE, "alert", {"note": "Technician on the way"}),
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
    ("id-token-bulk-upsert", "post"): (OPERATE, None, {"tokens": [{"uid": "04AABBCC"}]}),
    ("command-list", "get"): (READ, None, None),
    ("command-list", "post"): (OPERATE, None, _charger),
    ("command-detail", "get"): (READ, "command", None),
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
