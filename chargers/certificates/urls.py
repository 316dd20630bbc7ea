from django.urls import path

from chargers.certificates import views

urlpatterns = [
    path("certificates/", views.overview, name="certificate_overview"),
    path("certificates/fleet/", views.fleet_operation, name="certificate_fleet_operation"),
    path("certificates/authority/", views.authority_edit, name="certificate_authority_edit"),
    path("certificates/settings/", views.settings_edit, name="certificate_settings"),
    path(
        "chargers/<int:pk>/certificates/",
        views.charger_certificates,
        name="charger_certificates",
    ),
]
