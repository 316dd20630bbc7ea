"""Who may do what with firmware and diagnostics: the one table the dashboard's views and the
API's viewsets both read (tests compare them route by route)."""

from cpms.models import Role

# Everyone with an operator role sees images, campaigns, timelines and diagnostics files.
READ = Role.VIEWER
# What runs on the fleet's hardware is an admin's decision (SPEC: admins do firmware).
MANAGE_IMAGES = Role.ADMIN
MANAGE_CAMPAIGNS = Role.ADMIN
# Asking a charger for its log is day-to-day work.
REQUEST_DIAGNOSTICS = Role.OPERATOR
