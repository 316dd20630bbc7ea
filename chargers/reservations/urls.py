from django.urls import path

from chargers.reservations import views

urlpatterns = [
    path("reservations/", views.reservation_list, name="reservation_list"),
    path("chargers/<int:pk>/reserve/", views.reservation_create, name="reservation_create"),
    path("reservations/<int:pk>/cancel/", views.reservation_cancel, name="reservation_cancel"),
]
