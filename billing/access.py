"""Who may do what with tariffs and priced sessions: the one table the dashboard's views and the
API's viewsets both read (tests compare them route by route)."""

from cpms.models import Role

# Everyone with an operator role sees tariffs, their assignments and the priced sessions, and
# may ask what a session would cost.
READ = Role.VIEWER
PREVIEW_PRICES = Role.VIEWER
# Prices are the tenant's commercial terms: an admin's decision (SPEC: admin does tariffs).
MANAGE_TARIFFS = Role.ADMIN
# Customers, who pays for which id-token groups, and credit notes: an admin's, like tariffs.
MANAGE_CUSTOMERS = Role.ADMIN
CREDIT_INVOICES = Role.ADMIN
# Revenue shares agreed with site owners; their statements are read by every operator role.
MANAGE_SITE_SHARES = Role.ADMIN
# The seller's legal details, payment terms, e-invoicing and how often chargers show costs: an
# admin's, like the tenant's other settings.
MANAGE_BILLING_SETTINGS = Role.ADMIN
