from django.urls import path

from billing import portal

urlpatterns = [
    path("statements/", portal.portal_statements, name="portal_statements"),
    path("statements/<int:pk>.pdf", portal.portal_statement_pdf, name="portal_statement_pdf"),
]
