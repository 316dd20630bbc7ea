from django.urls import path

from chargers.configuration import views

urlpatterns = [
    path("configuration/", views.template_list, name="config_template_list"),
    path("configuration/new/", views.template_create, name="config_template_create"),
    path("configuration/<int:pk>/", views.template_detail, name="config_template_detail"),
    path("configuration/<int:pk>/edit/", views.template_edit, name="config_template_edit"),
    path("configuration/<int:pk>/delete/", views.template_delete, name="config_template_delete"),
    path("configuration/<int:pk>/apply/", views.template_apply, name="config_template_apply"),
    path("configuration/runs/<int:pk>/", views.run_detail, name="config_apply_run"),
]
