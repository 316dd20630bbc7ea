"""What the listeners ask on every boot and configuration command, remembered per process
(`cpms.memo`): whether the tenant has any configuration template. A template saved in this
process forgets the tenant at once; one saved elsewhere is seen when the memory expires."""

from cpms.memo import TenantFacts

has_templates = TenantFacts(ttl=30.0)
