"""Tenancy in one package.

- `scoping`: the data layer's tenant scope. Tenant-owned managers filter to the active tenant
  and refuse to run with none.
- `doors`: where each door (web request, API key, OCPP URL, Celery task) resolves its tenant
  and opens the scope, once.
- `access`: role rules (who may read, write, approve), the same for dashboard, API and tasks.
- `rows`: fixed SQL statements for hot paths, always in the active scope.
"""
