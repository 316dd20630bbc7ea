from django.urls import path

from billing import portal

urlpatterns = [
    path("statements/", portal.portal_statements, name="portal_statements"),
]
