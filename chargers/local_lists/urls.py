from django.urls import path

from chargers.local_lists import views

urlpatterns = [
    path("settings/local-lists/", views.settings_page, name="local_list_settings"),
    path("settings/local-lists/sync/", views.sync_fleet, name="local_list_sync"),
    path("chargers/<int:pk>/local-list/", views.charger_local_list, name="charger_local_list"),
]
