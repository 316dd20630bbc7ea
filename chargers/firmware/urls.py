from django.urls import path

from chargers.firmware import views

urlpatterns = [
    path("firmware/", views.campaign_list, name="firmware_campaign_list"),
    path("firmware/campaigns/new/", views.campaign_create, name="firmware_campaign_create"),
    path("firmware/campaigns/<int:pk>/", views.campaign_detail, name="firmware_campaign_detail"),
    path(
        "firmware/campaigns/<int:pk>/action/",
        views.campaign_action,
        name="firmware_campaign_action",
    ),
    path("firmware/targets/<int:pk>/", views.target_detail, name="firmware_target_detail"),
    path("firmware/images/", views.image_list, name="firmware_image_list"),
    path("firmware/images/new/", views.image_create, name="firmware_image_create"),
    path("firmware/outdated/", views.outdated, name="firmware_outdated"),
    path("chargers/<int:pk>/diagnostics/", views.charger_diagnostics, name="charger_diagnostics"),
    path("diagnostics/<int:pk>/file/", views.diagnostics_file, name="diagnostics_file"),
]
