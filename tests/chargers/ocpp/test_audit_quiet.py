"""A charger's own messages are not people's doings: they leave the audit log empty."""

import pytest
from ocpp.v16 import call

from cpms.audit.models import AuditEntry
from tests.aio import in_a
from tests.chargers.ocpp.clients import connected

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_chargers_boot_heartbeats_and_statuses_write_no_audit_entry(
    ocpp_server, tenant_a, charger
):
    async with connected(ocpp_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        await cp.call(call.Heartbeat())
        await cp.call(
            call.StatusNotification(connector_id=1, error_code="NoError", status="Available")
        )

    assert await in_a(tenant_a, lambda: AuditEntry.objects.count()) == 0
    assert await in_a(tenant_a, lambda: charger.__class__.objects.get().last_seen) is not None
