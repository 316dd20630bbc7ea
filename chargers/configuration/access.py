"""Who may do what with configuration templates: the one table the dashboard's views and the
API's viewsets both read (tests compare them route by route)."""

from cpms.models import Role

# Everyone with an operator role sees templates, drift and apply runs.
READ = Role.VIEWER
# The desired configuration of the fleet is policy: an admin's decision.
MANAGE_TEMPLATES = Role.ADMIN
# Applying it is a configuration command, day-to-day work (as in `chargers.access`).
APPLY = Role.OPERATOR
