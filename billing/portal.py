"""The site-owner portal's billing page: the owner's own monthly statements, nobody else's."""

from django.shortcuts import render

from billing.models import Statement
from cpms.tenancy.access import portal_view


@portal_view
def portal_statements(request):
    owner = request.membership.site_owner
    statements = Statement.objects.filter(site_owner=owner)
    return render(
        request, "billing/portal_statements.html", {"owner": owner, "statements": statements}
    )
