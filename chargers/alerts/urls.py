from django.urls import path

from chargers.alerts import views

urlpatterns = [
    path("alerts/", views.alert_list, name="alert_list"),
    path("alerts/export.csv", views.alert_export, name="alert_export"),
    path("alerts/rules/", views.alert_rules, name="alert_rules"),
    path("alerts/<int:pk>/", views.alert_detail, name="alert_detail"),
]
