"""Who may do what with load management: one table the dashboard and the API both read."""

from cpms.models import Role

# Everyone with an operator role sees the tree, the limits and the plans.
READ = Role.VIEWER
# The tree, the wiring, the limits, schedules and signals: what protects the fuses is an
# admin's decision.
MANAGE_LOAD_TREE = Role.ADMIN
# A session's priority and needs: day-to-day work.
SET_SESSION_NEEDS = Role.OPERATOR
# Which id-token groups go first when current is scarce: a standing policy, an admin's.
MANAGE_PRIORITIES = Role.ADMIN
