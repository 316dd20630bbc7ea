"""The demo tenant's configuration templates, created or refreshed (`manage.py seed_demo`).

The simulated fleet (`manage.py demo`) holds what the model's templates desire, but for one
charger: the model's template for the Riverside Offices site asks its 1.6 charger (DEMO-0005)
for slower metering than the simulator runs, so the demo shows a drifted charger, and shows
that a site's template wins over the model's fleet-wide one.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from chargers.configuration.desired import parse_lines
from chargers.configuration.models import ConfigTemplate
from chargers.configuration.services.templates import template_create, template_update
from cpms.models import Site

# What the simulator reports (factory_settings.py, with the demo's --meter-interval 10).
VENDOR, MODEL = "CPMS-Sim", "SimCharger AC22"
TEMPLATES: list[dict[str, Any]] = [
    {
        "name": "SimCharger AC22 (1.6)",
        "protocol": "1.6",
        "lines": "MeterValueSampleInterval = 10\nConnectionTimeOut = 60\n"
        "StopTransactionOnInvalidId = true",
    },
    {
        "name": "SimCharger AC22 (2.0.1)",
        "protocol": "2.0.1",
        "lines": "SampledDataCtrlr.TxUpdatedInterval = 10\nOCPPCommCtrlr.OfflineThreshold = 60\n"
        "TxCtrlr.EVConnectionTimeOut = 60",
    },
    {
        "name": "SimCharger AC22 at Riverside Offices (1.6)",
        "protocol": "1.6",
        "site": "Riverside Offices",
        "lines": "MeterValueSampleInterval = 30",
    },
]


@transaction.atomic
def demo_configuration_seed() -> list[ConfigTemplate]:
    """Create or refresh the demo's templates (in the demo tenant's scope)."""
    saved = []
    for spec in TEMPLATES:
        site = Site.objects.filter(name=spec["site"]).first() if spec.get("site") else None
        fields = {
            "protocol": spec["protocol"],
            "vendor": VENDOR,
            "model": MODEL,
            "site": site,
            "entries": parse_lines(protocol=spec["protocol"], text=spec["lines"]),
        }
        existing = ConfigTemplate.objects.filter(name=spec["name"]).first()
        if existing is None:
            saved.append(template_create(name=spec["name"], **fields))
        else:
            saved.append(template_update(template=existing, **fields))
    return saved
