from django.urls import path

from billing import customer_views, invoice_views, views

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
    path("customers/", customer_views.customer_list, name="customer_list"),
    path("customers/new/", customer_views.customer_edit, name="customer_create"),
    path("customers/<int:pk>/", customer_views.customer_detail, name="customer_detail"),
    path("customers/<int:pk>/edit/", customer_views.customer_edit, name="customer_edit"),
    path("invoices/", invoice_views.invoice_list, name="invoice_list"),
    path("invoices.csv", invoice_views.invoice_export, name="invoice_export"),
    path("invoices/<int:pk>/", invoice_views.invoice_detail, name="invoice_detail"),
    path("invoices/<int:pk>.pdf", invoice_views.invoice_pdf, name="invoice_pdf"),
    path(
        "invoices/<int:pk>/lines.csv",
        invoice_views.invoice_lines_export,
        name="invoice_lines_export",
    ),
    path("statements/", invoice_views.statement_list, name="statement_list"),
    path("statements/<int:pk>/", invoice_views.statement_detail, name="statement_detail"),
    path("statements/<int:pk>.pdf", invoice_views.statement_pdf, name="statement_pdf"),
    path("billing/settings/", invoice_views.billing_settings, name="billing_settings"),
]
