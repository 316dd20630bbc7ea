"""What the beat jobs forget, and what they keep."""

from datetime import timedelta

import pytest
from django.utils import timezone

from chargers.models import HandshakeRefusal
from chargers.services.connections import HANDSHAKE_REFUSAL_DAYS
from chargers.tasks import trim_handshake_refusals
from cpms.tenancy import scoping

pytestmark = pytest.mark.django_db


def test_refused_handshakes_are_forgotten_after_their_days_of_every_tenant_and_none(tenant_a):
    now = timezone.now()
    old = now - timedelta(days=HANDSHAKE_REFUSAL_DAYS, minutes=1)
    recent = now - timedelta(days=HANDSHAKE_REFUSAL_DAYS - 1)
    with scoping.unscoped():
        for tenant, at in [(tenant_a, old), (None, old), (tenant_a, recent), (None, recent)]:
            HandshakeRefusal.objects.create(tenant=tenant, at=at, reason="wrong_password")
    assert trim_handshake_refusals() == 2
    with scoping.unscoped():
        assert sorted(HandshakeRefusal.objects.values_list("at", flat=True)) == [recent, recent]
