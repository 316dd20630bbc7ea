"""Fixtures of the local list tests: tokens of tenant A, its policy, Celery run eagerly."""

import pytest

from chargers.local_lists.models import PolicyMode
from chargers.local_lists.services.policies import local_list_policy_set
from chargers.models import IdToken
from cpms.celery import app
from cpms.tenancy import scoping


@pytest.fixture
def tokens(tenant_a):
    """Two cards of a fleet group, a loose card and an expired one."""
    with scoping.scope(tenant_a):
        fleet = IdToken.objects.create(uid="FLEET-1", type="Central", label="Fleet")
        return {
            "fleet": fleet,
            "driver": IdToken.objects.create(uid="04A1", label="Driver", group=fleet),
            "colleague": IdToken.objects.create(uid="04A2", label="Colleague", group=fleet),
            "loose": IdToken.objects.create(uid="04B1", label="Visitor"),
        }


@pytest.fixture
def policy(tenant_a, tokens):
    with scoping.scope(tenant_a):
        return local_list_policy_set(mode=PolicyMode.ALL)


@pytest.fixture
def eager():
    """Celery tasks run where they are queued, as the embedded worker would run them soon."""
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = False
