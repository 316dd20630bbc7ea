"""Who may do what with reservations: the one table the dashboard's views and the API's
viewsets both read (tests compare them route by route)."""

from cpms.models import Role

# Everyone with an operator role sees the reservations.
READ = Role.VIEWER
# Reserving a connector for a driver and cancelling it is day-to-day work, like a remote start.
MANAGE_RESERVATIONS = Role.OPERATOR
