import pytest

from cpms.models import Site
from cpms.tenancy import scoping


def test_it_refuses_queries_outside_any_scope(site_a):
    with pytest.raises(scoping.TenantScopeError):
        list(Site.objects.all())


def test_it_refuses_counts_updates_and_deletes_outside_any_scope(site_a):
    with pytest.raises(scoping.TenantScopeError):
        Site.objects.count()
    with pytest.raises(scoping.TenantScopeError):
        Site.objects.update(city="Nowhere")
    with pytest.raises(scoping.TenantScopeError):
        Site.objects.all().delete()
    with scoping.unscoped():
        assert Site.objects.get().city == "Hamburg"


def test_it_returns_only_the_scoped_tenants_rows(site_a, tenant_b):
    with scoping.scope(tenant_b):
        Site.objects.create(name="Depot B")
        assert [s.name for s in Site.objects.all()] == ["Depot B"]
        assert not Site.objects.filter(pk=site_a.pk).exists()
    with scoping.unscoped():
        assert Site.objects.count() == 2


def test_it_stamps_new_rows_with_the_scoped_tenant(tenant_b):
    with scoping.scope(tenant_b):
        site = Site.objects.create(name="Depot B")
    assert site.tenant == tenant_b


def test_it_refuses_to_save_a_row_without_a_tenant(db):
    with pytest.raises(scoping.TenantScopeError):
        Site(name="Orphan").save()


def test_reverse_relations_stay_scoped(site_a, owner_a, tenant_a, tenant_b):
    with scoping.scope(tenant_b):
        assert list(owner_a.sites.all()) == []
    with scoping.scope(tenant_a):
        assert list(owner_a.sites.all()) == [site_a]
