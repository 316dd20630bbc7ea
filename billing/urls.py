from django.urls import path

from billing import views

urlpatterns = [
    path("tariffs/", views.tariff_list, name="tariff_list"),
    path("tariffs/new/", views.tariff_edit, name="tariff_create"),
    path("tariffs/<int:pk>/", views.tariff_detail, name="tariff_detail"),
    path("tariffs/<int:pk>/edit/", views.tariff_edit, name="tariff_edit"),
    path("tariffs/<int:pk>/delete/", views.tariff_delete, name="tariff_delete"),
    path("tariffs/<int:pk>/assign/", views.tariff_assign, name="tariff_assign"),
    path(
        "tariff-assignments/<int:pk>/remove/",
        views.tariff_assignment_remove,
        name="tariff_assignment_remove",
    ),
    path("charge-detail-records.csv", views.cdr_export, name="cdr_export"),
    path("invoices/", views.invoice_list, name="invoice_list"),
    path("invoices/<int:pk>/", views.invoice_detail, name="invoice_detail"),
]
