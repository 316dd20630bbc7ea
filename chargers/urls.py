from django.urls import include, path

from chargers import fleet_views, session_views, views

urlpatterns = [
    path("live/counts/", fleet_views.live_fleet_counts, name="fleet_counts"),
    path("live/states/", fleet_views.charger_states, name="charger_states"),
    path("chargers/", fleet_views.charger_list, name="charger_list"),
    path("chargers/new/", fleet_views.charger_create, name="charger_create"),
    path("chargers/<int:pk>/", fleet_views.charger_detail, name="charger_detail"),
    path("chargers/<int:pk>/edit/", fleet_views.charger_edit, name="charger_edit"),
    path("chargers/<int:pk>/command/", fleet_views.charger_command, name="charger_command"),
    path(
        "chargers/<int:pk>/configuration/",
        fleet_views.charger_configuration,
        name="charger_configuration",
    ),
    path("chargers/<int:pk>/messages/", fleet_views.charger_messages, name="charger_messages"),
    path(
        "chargers/<int:pk>/credentials/",
        fleet_views.charger_credentials,
        name="charger_credentials",
    ),
    path(
        "chargers/<int:pk>/registration/",
        fleet_views.charger_registration,
        name="charger_registration",
    ),
    path("sessions/", session_views.session_list, name="session_list"),
    path("sessions/export.csv", session_views.session_export, name="session_export"),
    path("sessions/<int:pk>/", session_views.session_detail, name="session_detail"),
    path("sessions/<int:pk>/row/", session_views.session_row, name="session_row"),
    path("id-tokens/", views.id_token_list, name="id_token_list"),
    path("id-tokens/new/", views.id_token_edit, name="id_token_create"),
    path("id-tokens/import/", views.id_token_import, name="id_token_import"),
    path("id-tokens/<int:pk>/", views.id_token_edit, name="id_token_edit"),
    path("id-tokens/<int:pk>/block/", views.id_token_block, name="id_token_block"),
    path("", include("chargers.alerts.urls")),
]
