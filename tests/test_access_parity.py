"""A role rule cannot differ between the dashboard and the API: for every operation both
offer, the role the page needs is the role the endpoint needs. The two route tables are what
the page and endpoint matrices test each door against; here they are held against each other."""

import pytest

from tests.cpms.api.routes import ROUTES
from tests.cpms.pages import OPERATOR_PAGES

# The same operation at either door: dashboard page -> API route and method.
SAME_OPERATION = [
    ("charger_list", ("charger-list", "get")),
    ("charger_detail", ("charger-detail", "get")),
    ("charger_create", ("charger-list", "post")),
    ("charger_edit", ("charger-detail", "patch")),
    ("charger_credentials", ("charger-rotate-password", "post")),
    ("fleet_settings", ("charger-settings", "get")),
    ("fleet_settings", ("charger-settings", "patch")),
    ("fleet_settings", ("charger-settings-onboarding", "post")),
    ("fleet_settings", ("charger-settings-onboarding", "delete")),
    ("billing_settings", ("billing-settings", "get")),
    ("billing_settings", ("billing-settings", "patch")),
    ("load_priorities", ("group-priority-list", "get")),
    ("charger_registration", ("charger-approve", "post")),
    ("charger_registration", ("charger-reject", "post")),
    ("charger_command", ("command-list", "post")),
    ("id_token_list", ("id-token-list", "get")),
    ("id_token_create", ("id-token-list", "post")),
    ("id_token_edit", ("id-token-detail", "patch")),
    ("id_token_block", ("id-token-detail", "patch")),
    ("id_token_import", ("id-token-bulk-upsert", "post")),
    ("session_list", ("session-list", "get")),
    ("session_export", ("session-export", "get")),
    ("site_list", ("site-list", "get")),
    ("site_create", ("site-list", "post")),
    ("site_edit", ("site-detail", "patch")),
    ("site_owner_create", ("site-owner-list", "post")),
    ("site_owner_edit", ("site-owner-detail", "patch")),
    ("member_list", ("member-list", "get")),
    ("member_create", ("member-list", "post")),
    ("member_edit", ("member-detail", "patch")),
    ("member_remove", ("member-detail", "delete")),
    ("api_key_list", ("api-key-list", "post")),
    ("api_key_revoke", ("api-key-revoke", "post")),
    ("alert_list", ("alert-list", "get")),
    ("tariff_list", ("tariff-list", "get")),
    ("tariff_detail", ("tariff-detail", "get")),
    ("tariff_detail", ("tariff-price", "post")),
    ("tariff_create", ("tariff-list", "post")),
    ("tariff_edit", ("tariff-detail", "patch")),
    ("tariff_delete", ("tariff-detail", "delete")),
    ("tariff_assign", ("tariff-assignment-list", "post")),
    ("tariff_assignment_remove", ("tariff-assignment-detail", "delete")),
    ("cdr_export", ("cdr-export", "get")),
    ("invoice_list", ("invoice-list", "get")),
    ("invoice_detail", ("invoice-detail", "get")),
    ("invoice_export", ("invoice-export", "get")),
    ("invoice_pdf", ("invoice-pdf", "get")),
    ("invoice_lines_export", ("invoice-lines-export", "get")),
    ("statement_list", ("statement-list", "get")),
    ("statement_detail", ("statement-detail", "get")),
    ("statement_pdf", ("statement-pdf", "get")),
    ("site_load", ("load-plan-detail", "get")),
    ("site_load_edit", ("circuit-list", "post")),
    ("site_load_edit", ("grid-connection-list", "post")),
    ("site_load_edit", ("charger-wiring-list", "post")),
    ("site_load_edit", ("grid-limit-window-list", "post")),
    ("firmware_campaign_list", ("firmware-campaign-list", "get")),
    ("firmware_campaign_detail", ("firmware-campaign-detail", "get")),
    ("firmware_campaign_create", ("firmware-campaign-list", "post")),
    ("firmware_campaign_action", ("firmware-campaign-start", "post")),
    ("firmware_campaign_action", ("firmware-campaign-pause", "post")),
    ("firmware_campaign_action", ("firmware-campaign-resume", "post")),
    ("firmware_campaign_action", ("firmware-campaign-cancel", "post")),
    ("firmware_target_detail", ("firmware-target-detail", "get")),
    ("firmware_image_list", ("firmware-image-list", "get")),
    ("firmware_image_create", ("firmware-image-list", "post")),
    ("charger_diagnostics", ("diagnostics-list", "get")),
    ("diagnostics_file", ("diagnostics-download", "get")),
    ("local_list_settings", ("local-list-policy-list", "get")),
    ("local_list_sync", ("local-list-sync-fleet", "post")),
    ("charger_local_list", ("local-list-detail", "get")),
]


@pytest.mark.parametrize(("page", "route"), SAME_OPERATION)
def test_a_page_and_its_endpoint_need_the_same_role(page, route):
    assert OPERATOR_PAGES[page][0] == ROUTES[route][0]
