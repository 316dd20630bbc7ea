from django.urls import path

from chargers.smart_charging import views

urlpatterns = [
    path("load/priorities/", views.load_priorities, name="load_priorities"),
    path("sites/<int:pk>/load/", views.site_load, name="site_load"),
    path("sites/<int:pk>/load/edit/", views.site_load_edit, name="site_load_edit"),
    path("sites/<int:pk>/load/what-if/", views.site_load_what_if, name="site_load_what_if"),
]
