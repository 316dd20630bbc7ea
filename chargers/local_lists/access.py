"""Who may do what with local authorization lists: the one table the dashboard's views and
the API's viewsets both read (tests compare them route by route)."""

from cpms.models import Role

# Everyone with an operator role sees the policy and every charger's list.
READ = Role.VIEWER
# Syncing a list now is day-to-day work, like any command.
SYNC = Role.OPERATOR
# Which tokens chargers accept offline is an admin's decision, like the tokens' settings.
MANAGE_POLICY = Role.ADMIN
