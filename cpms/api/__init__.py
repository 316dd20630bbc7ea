"""The REST API for integrators under /api/v1/: the base every resource builds on (`base`),
the tenancy resources (`resources`) and webhooks (`webhooks`). Charger resources live in
`chargers.api`."""
