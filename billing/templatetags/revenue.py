"""The site-owner portal's revenue chart, next to its uptime: billing's figures on a page the
chargers' portal renders, asked for by the template (the portal's views know no billing)."""

from __future__ import annotations

from typing import Any

from django import template

from billing.selectors import revenue_per_month
from cpms.models import Site

register = template.Library()


@register.inclusion_tag("billing/_site_revenue.html")
def site_revenue(site: Site) -> dict[str, Any]:
    """Revenue per month of `site` (read in the page's scope), one chart per currency."""
    charts = revenue_per_month(site)
    return {
        "charts": [(f"revenue-{chart['currency'].lower()}", chart) for chart in charts],
    }
