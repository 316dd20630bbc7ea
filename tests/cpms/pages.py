"""The dashboard's page table: every tenant page with the role it needs to be read.

Tests build their matrices from this table, and a test checks that the URLconf has no tenant
page missing from it: a new page without an entry fails the suite.
"""

from django.urls import URLPattern, URLResolver, get_resolver

from cpms.models import Role

# name -> (role needed to read it, the fixture object whose pk goes in the URL, or None)
OPERATOR_PAGES = {
    "tenant_overview": (Role.VIEWER, None),
    "site_list": (Role.VIEWER, None),
    "site_detail": (Role.VIEWER, "site"),
    "site_create": (Role.ADMIN, None),
    "site_edit": (Role.ADMIN, "site"),
    "site_owner_list": (Role.VIEWER, None),
    "site_owner_detail": (Role.VIEWER, "owner"),
    "site_owner_create": (Role.ADMIN, None),
    "site_owner_edit": (Role.ADMIN, "owner"),
    "member_list": (Role.ADMIN, None),
    "member_create": (Role.ADMIN, None),
    "member_edit": (Role.ADMIN, "membership"),
    "member_remove": (Role.ADMIN, "membership"),
    "api_key_list": (Role.ADMIN, None),
    "api_key_revoke": (Role.ADMIN, "api_key"),
    "tenant_settings": (Role.ADMIN, None),
    "fleet_settings": (Role.ADMIN, None),
    "id_token_list": (Role.VIEWER, None),
    "id_token_export": (Role.VIEWER, None),
    "id_token_create": (Role.OPERATOR, None),
    "id_token_edit": (Role.OPERATOR, "id_token"),
    "id_token_import": (Role.OPERATOR, None),
    "id_token_block": (Role.OPERATOR, "id_token"),
    # The fleet dashboard (issue 5).
    "fleet_counts": (Role.VIEWER, None),
    "charger_states": (Role.VIEWER, None),
    "charger_names": (Role.VIEWER, None),
    "charger_list": (Role.VIEWER, None),
    "charger_export": (Role.VIEWER, None),
    "charger_detail": (Role.VIEWER, "charger"),
    "charger_create": (Role.ADMIN, None),
    "charger_edit": (Role.ADMIN, "charger"),
    "charger_command": (Role.OPERATOR, "charger"),
    "charger_configuration": (Role.VIEWER, "charger"),
    "charger_messages": (Role.VIEWER, "charger"),
    "charger_credentials": (Role.ADMIN, "charger"),
    "charger_registration": (Role.ADMIN, "charger"),
    "command_outcome": (Role.VIEWER, "command"),
    "session_list": (Role.VIEWER, None),
    "session_export": (Role.VIEWER, None),
    "session_detail": (Role.VIEWER, "session"),
    "session_row": (Role.VIEWER, "session"),
    "alert_list": (Role.VIEWER, None),
    "alert_export": (Role.VIEWER, None),
    "alert_detail": (Role.VIEWER, "alert"),
    "alert_rules": (Role.ADMIN, None),
    # Tariffs and priced sessions (issue 13).
    "tariff_list": (Role.VIEWER, None),
    "tariff_create": (Role.ADMIN, None),
    "tariff_detail": (Role.VIEWER, "tariff"),
    "tariff_edit": (Role.ADMIN, "tariff"),
    "tariff_delete": (Role.ADMIN, "tariff"),
    "tariff_assign": (Role.ADMIN, "tariff"),
    "tariff_assignment_remove": (Role.ADMIN, "tariff_assignment"),
    "cdr_export": (Role.VIEWER, None),
    "invoice_list": (Role.VIEWER, None),
    "invoice_detail": (Role.VIEWER, "invoice"),
    # Customers: who pays for which id-token groups.
    "customer_list": (Role.VIEWER, None),
    "customer_create": (Role.ADMIN, None),
    "customer_detail": (Role.VIEWER, "customer"),
    "customer_edit": (Role.ADMIN, "customer"),
    # Invoices and statements as documents (PDF, CSV), and the billing settings they follow.
    "invoice_export": (Role.VIEWER, None),
    "invoice_pdf": (Role.VIEWER, "invoice"),
    "invoice_lines_export": (Role.VIEWER, "invoice"),
    "statement_list": (Role.VIEWER, None),
    "statement_detail": (Role.VIEWER, "statement"),
    "statement_pdf": (Role.VIEWER, "statement"),
    "billing_settings": (Role.ADMIN, None),
    # Load management (chargers/smart_charging).
    "site_load": (Role.VIEWER, "site"),
    "site_load_edit": (Role.ADMIN, "site"),
    "site_load_what_if": (Role.VIEWER, "site"),
    "load_priorities": (Role.VIEWER, None),
    # Firmware and diagnostics (issue 15).
    "firmware_campaign_list": (Role.VIEWER, None),
    "firmware_campaign_create": (Role.ADMIN, None),
    "firmware_campaign_detail": (Role.VIEWER, "campaign"),
    "firmware_campaign_action": (Role.ADMIN, "campaign"),
    "firmware_target_detail": (Role.VIEWER, "campaign_target"),
    "firmware_image_list": (Role.VIEWER, None),
    "firmware_image_create": (Role.ADMIN, None),
    "firmware_outdated": (Role.VIEWER, None),
    "charger_diagnostics": (Role.VIEWER, "charger"),
    "diagnostics_file": (Role.VIEWER, "diagnostics"),
    # Reservations (chargers/reservations).
    "reservation_list": (Role.VIEWER, None),
    "reservation_create": (Role.OPERATOR, "charger"),
    "reservation_cancel": (Role.OPERATOR, "reservation"),
    # Local authorization lists.
    "local_list_settings": (Role.VIEWER, None),
    "local_list_sync": (Role.OPERATOR, None),
    "charger_local_list": (Role.VIEWER, "charger"),
    # Configuration templates and drift (chargers/configuration).
    "config_template_list": (Role.VIEWER, None),
    "config_template_create": (Role.ADMIN, None),
    "config_template_detail": (Role.VIEWER, "config_template"),
    "config_template_edit": (Role.ADMIN, "config_template"),
    "config_template_delete": (Role.ADMIN, "config_template"),
    "config_template_apply": (Role.OPERATOR, "config_template"),
    "config_apply_run": (Role.VIEWER, "config_apply_run"),
    # Charger certificates (the tenant's CA, rotation, roots on chargers).
    "certificate_overview": (Role.VIEWER, None),
    "certificate_fleet_operation": (Role.OPERATOR, None),
    "certificate_authority_edit": (Role.ADMIN, None),
    "certificate_settings": (Role.ADMIN, None),
    "charger_certificates": (Role.VIEWER, "charger"),
    # Plug & Charge (the provider settings, test contracts, revocation).
    "certificate_pnc_settings": (Role.ADMIN, None),
    "contract_certificate_issue": (Role.OPERATOR, None),
    "contract_certificate_revoke": (Role.OPERATOR, "contract_certificate"),
    # The audit log (cpms/audit): admins only.
    "audit_list": (Role.ADMIN, None),
    "audit_export": (Role.ADMIN, None),
    "audit_detail": (Role.ADMIN, "audit_entry"),
}

PORTAL_PAGES = {
    "portal_home": None,
    "portal_site": "site",
    "portal_export": "site",
    "portal_statements": None,
    "portal_statement_pdf": "statement",
}

# Pages that only accept POST: a GET by someone allowed in is 405.
POST_ONLY = {
    "api_key_revoke",
    "member_remove",
    "charger_command",
    "charger_registration",
    "id_token_block",
    "tariff_delete",
    "tariff_assign",
    "tariff_assignment_remove",
    "firmware_campaign_action",
    "reservation_cancel",
    "local_list_sync",
    "config_template_delete",
    "config_template_apply",
    "certificate_fleet_operation",
    "contract_certificate_issue",
    "contract_certificate_revoke",
}


def tenant_page_names() -> set[str]:
    """Every named route below a tenant slug in the URLconf."""
    names = set()

    def walk(patterns, under_tenant):
        for pattern in patterns:
            inside = under_tenant or "tenant_slug" in str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, inside)
            elif isinstance(pattern, URLPattern) and inside and pattern.name:
                names.add(pattern.name)

    walk(get_resolver().url_patterns, False)
    return names
