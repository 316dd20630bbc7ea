from django.urls import path

from chargers.certificates import pnc_views, views

urlpatterns = [
    path("certificates/", views.overview, name="certificate_overview"),
    path("certificates/fleet/", views.fleet_operation, name="certificate_fleet_operation"),
    path("certificates/authority/", views.authority_edit, name="certificate_authority_edit"),
    path("certificates/settings/", views.settings_edit, name="certificate_settings"),
    path(
        "certificates/plug-and-charge/",
        pnc_views.pnc_settings_edit,
        name="certificate_pnc_settings",
    ),
    path(
        "certificates/contracts/",
        pnc_views.contract_issue,
        name="contract_certificate_issue",
    ),
    path(
        "certificates/contracts/<int:pk>/revoke/",
        pnc_views.contract_revoke,
        name="contract_certificate_revoke",
    ),
    path(
        "chargers/<int:pk>/certificates/",
        views.charger_certificates,
        name="charger_certificates",
    ),
]
