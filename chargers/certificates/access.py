"""Who may do what with certificates: the one table the dashboard's views and the API's
viewsets both read."""

from cpms.models import Role

# Everyone with a role sees certificates, requests and the roots chargers hold.
READ = Role.VIEWER
# Rotating a charger's certificate and installing or deleting roots is day-to-day work.
OPERATE = Role.OPERATOR
# The CA itself (create, import) and the tenant's certificate policy are an admin's.
MANAGE_AUTHORITY = Role.ADMIN
