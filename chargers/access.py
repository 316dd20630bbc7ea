"""Who may do what with chargers, id tokens, commands and alerts.

The one table the dashboard's views, the API's viewsets and tasks all read, so that a rule
cannot differ between a page and an endpoint (tests compare them route by route).
"""

from cpms.models import Role

# Everyone with an operator role sees the fleet, its sessions and alerts.
READ = Role.VIEWER
# Registering, editing and removing chargers, their credentials, and approving or rejecting a
# pending charger: the hardware a tenant trusts is an admin's decision.
MANAGE_CHARGERS = Role.ADMIN
# Day-to-day work on chargers: remote start and stop, resets, configuration, triggers.
COMMAND_CHARGERS = Role.OPERATOR
# Id tokens: adding, editing, importing, blocking cards.
MANAGE_TOKENS = Role.OPERATOR
# Acknowledging an alert; choosing the alert rules is an admin's.
ACKNOWLEDGE_ALERTS = Role.OPERATOR
MANAGE_ALERT_RULES = Role.ADMIN
