"""The site-owner portal's billing pages: the owner's own monthly statements, as pages and
PDFs, nobody else's (another owner's statement is a 404, as one that does not exist)."""

from django.shortcuts import get_object_or_404, render

from billing import documents
from billing.models import Statement
from cpms.tenancy.access import portal_view


def _own_statements(request):
    return Statement.objects.filter(site_owner=request.membership.site_owner)


@portal_view
def portal_statements(request):
    zone = request.tenant.timezone
    statements = [(s, documents.issue_date(s.issued_at, zone)) for s in _own_statements(request)]
    return render(
        request,
        "billing/portal_statements.html",
        {"owner": request.membership.site_owner, "statements": statements},
    )


@portal_view
def portal_statement_pdf(request, pk: int):
    statement = get_object_or_404(_own_statements(request).select_related("tenant"), pk=pk)
    return documents.pdf_response(
        documents.statement_pdf(statement), documents.statement_filename(statement)
    )
