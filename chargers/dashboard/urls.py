from django.urls import include, path

from chargers.dashboard import fleet, fleet_settings, overview, portal, sessions, sites, tokens

urlpatterns = [
    path("", overview.tenant_overview, name="tenant_overview"),
    path("sites/", sites.site_list, name="site_list"),
    path("sites/new/", sites.site_edit, name="site_create"),
    path("sites/<int:pk>/", sites.site_detail, name="site_detail"),
    path("sites/<int:pk>/edit/", sites.site_edit, name="site_edit"),
    path("live/counts/", fleet.live_fleet_counts, name="fleet_counts"),
    path("live/states/", fleet.charger_states, name="charger_states"),
    path("live/names/", fleet.charger_names, name="charger_names"),
    path("chargers/", fleet.charger_list, name="charger_list"),
    path("chargers/export.csv", fleet.charger_export, name="charger_export"),
    path("chargers/new/", fleet.charger_create, name="charger_create"),
    path("chargers/<int:pk>/", fleet.charger_detail, name="charger_detail"),
    path("chargers/<int:pk>/edit/", fleet.charger_edit, name="charger_edit"),
    path("chargers/<int:pk>/command/", fleet.charger_command, name="charger_command"),
    path(
        "chargers/<int:pk>/configuration/",
        fleet.charger_configuration,
        name="charger_configuration",
    ),
    path("chargers/<int:pk>/messages/", fleet.charger_messages, name="charger_messages"),
    path("commands/<int:pk>/", fleet.command_outcome, name="command_outcome"),
    path(
        "chargers/<int:pk>/credentials/",
        fleet.charger_credentials,
        name="charger_credentials",
    ),
    path(
        "chargers/<int:pk>/registration/",
        fleet.charger_registration,
        name="charger_registration",
    ),
    path("sessions/", sessions.session_list, name="session_list"),
    path("sessions/export.csv", sessions.session_export, name="session_export"),
    path("sessions/<int:pk>/", sessions.session_detail, name="session_detail"),
    path("sessions/<int:pk>/row/", sessions.session_row, name="session_row"),
    path("id-tokens/", tokens.id_token_list, name="id_token_list"),
    path("id-tokens/export.csv", tokens.id_token_export, name="id_token_export"),
    path("id-tokens/new/", tokens.id_token_edit, name="id_token_create"),
    path("id-tokens/import/", tokens.id_token_import, name="id_token_import"),
    path("id-tokens/<int:pk>/", tokens.id_token_edit, name="id_token_edit"),
    path("id-tokens/<int:pk>/block/", tokens.id_token_block, name="id_token_block"),
    path("settings/chargers/", fleet_settings.fleet_settings_page, name="fleet_settings"),
    path("", include("chargers.alerts.urls")),
    path("", include("chargers.smart_charging.urls")),
]

portal_patterns = [
    path("", portal.portal_home, name="portal_home"),
    path("sites/<int:pk>/", portal.portal_site, name="portal_site"),
    path("sites/<int:pk>/sessions.csv", portal.portal_export, name="portal_export"),
]
