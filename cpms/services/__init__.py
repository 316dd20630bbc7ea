"""Every write of the tenancy app: tenants, sites and site owners, members, API keys.

Keyword-only functions named `<entity>_<verb>`, each atomic on its own; pages, the API and
management commands call them, none writes a model itself. A refused input raises Django's
ValidationError naming the field, which forms show beside the input and the API as a 400.
"""
