from django.urls import path

from cpms.audit import views

urlpatterns = [
    path("audit/", views.audit_list, name="audit_list"),
    path("audit/export.csv", views.audit_export, name="audit_export"),
    path("audit/<int:pk>/", views.audit_detail, name="audit_detail"),
]
