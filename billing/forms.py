"""The dashboard's tariff editor, assignment form, price preview and customer form. Forms read
input; the services validate the terms (by the pricing function's own reader) and write."""

from __future__ import annotations

import json
import re
import zoneinfo
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from billing.models import BillingSettings, Customer, Tariff
from billing.selectors import Hypothetical
from billing.services import SETTINGS_FIELDS
from chargers.models import Charger, Connector, IdToken
from cpms.forms import TenantModelForm
from cpms.models import Site

ELEMENTS_HELP = _(
    "OCPI 2.2.1 tariff elements as JSON: each has price_components (type ENERGY per kWh, TIME "
    "per charging hour, PARKING_TIME per parked hour or FLAT per session; price excl. VAT, vat "
    "%, step_size in Wh or seconds) and optional restrictions (start_time/end_time in the "
    "site's local time, day_of_week, min/max_kwh, min/max_power, min/max_duration ...). The "
    "first element whose restrictions hold prices each dimension."
)
EXAMPLE_ELEMENTS = [
    {"price_components": [{"type": "FLAT", "price": 0.5, "vat": 19, "step_size": 1}]},
    {"price_components": [{"type": "ENERGY", "price": 0.39, "vat": 19, "step_size": 1}]},
]


class TariffForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    currency = forms.CharField(
        label=_("Currency"), max_length=3, help_text=_("ISO 4217, e.g. EUR. Fixed once saved.")
    )
    elements = forms.CharField(
        label=_("Elements"), widget=forms.Textarea(attrs={"rows": 14}), help_text=ELEMENTS_HELP
    )
    min_price_excl_vat = forms.DecimalField(
        required=False, min_value=0, label=_("Minimum price excl. VAT")
    )
    min_price_incl_vat = forms.DecimalField(
        required=False, min_value=0, label=_("Minimum price incl. VAT")
    )
    max_price_excl_vat = forms.DecimalField(
        required=False, min_value=0, label=_("Maximum price excl. VAT")
    )
    max_price_incl_vat = forms.DecimalField(
        required=False, min_value=0, label=_("Maximum price incl. VAT")
    )
    parking_grace_minutes = forms.IntegerField(
        label=_("Parking grace minutes"),
        min_value=0,
        max_value=24 * 60,
        initial=0,
        help_text=_("Free parking per session."),
    )
    start_date_time = forms.DateTimeField(
        required=False, label=_("Valid from (UTC)"), help_text=_("Optional (OCPI start_date_time).")
    )
    end_date_time = forms.DateTimeField(
        required=False, label=_("Valid until (UTC)"), help_text=_("Optional (OCPI end_date_time).")
    )
    effective_from = forms.DateTimeField(
        required=False,
        label=_("Effective from (UTC)"),
        help_text=_(
            "When these terms take effect; empty: now. A change makes a new version; "
            "records already issued keep theirs."
        ),
    )

    def __init__(self, *args: Any, tariff: Tariff | None = None, **kwargs: Any) -> None:
        if tariff is not None and "initial" not in kwargs:
            current = tariff.current
            kwargs["initial"] = {
                "name": tariff.name,
                "currency": tariff.currency,
                "elements": json.dumps(current.elements, indent=2),
                "min_price_excl_vat": (current.min_price or {}).get("excl_vat"),
                "min_price_incl_vat": (current.min_price or {}).get("incl_vat"),
                "max_price_excl_vat": (current.max_price or {}).get("excl_vat"),
                "max_price_incl_vat": (current.max_price or {}).get("incl_vat"),
                "parking_grace_minutes": current.parking_grace_minutes,
                "start_date_time": current.start_date_time,
                "end_date_time": current.end_date_time,
            }
        elif "initial" not in kwargs:
            kwargs["initial"] = {
                "currency": "EUR",
                "elements": json.dumps(EXAMPLE_ELEMENTS, indent=2),
                "parking_grace_minutes": 0,
            }
        super().__init__(*args, **kwargs)

    def clean_elements(self) -> Any:
        try:
            return json.loads(self.cleaned_data["elements"])
        except ValueError as error:
            raise ValidationError(gettext("Not JSON: %(error)s") % {"error": error}) from None

    def values(self) -> dict[str, Any]:
        """The service's keywords, OCPI-named."""
        data = self.cleaned_data
        return {
            "name": data["name"],
            "currency": data["currency"].upper(),
            "elements": data["elements"],
            "min_price": _price(data["min_price_excl_vat"], data["min_price_incl_vat"]),
            "max_price": _price(data["max_price_excl_vat"], data["max_price_incl_vat"]),
            "parking_grace_minutes": data["parking_grace_minutes"],
            "start_date_time": data["start_date_time"],
            "end_date_time": data["end_date_time"],
            "effective_from": data["effective_from"],
        }

    def add_service_errors(self, error: ValidationError) -> None:
        """A service's error names OCPI's field (`elements.0.price_components.1.step_size`,
        `min_price.incl_vat`): shown beside the form field that holds it."""
        for field, messages in error.message_dict.items():
            head, _, rest = field.partition(".")
            if head in ("min_price", "max_price"):
                target = f"{head}_{rest or 'excl_vat'}"
            else:
                target = head
            where = f"{field}: " if rest and target == "elements" else ""
            self.add_error(target if target in self.fields else None, [where + m for m in messages])


def _price(excl: Decimal | None, incl: Decimal | None) -> dict[str, Any] | None:
    if excl is None:
        return None if incl is None else {"excl_vat": None, "incl_vat": incl}
    return {"excl_vat": excl} | ({"incl_vat": incl} if incl is not None else {})


class AssignmentForm(forms.Form):
    site = forms.ModelChoiceField(label=_("Site"), queryset=Site.objects.none(), required=False)
    charger = forms.ModelChoiceField(
        label=_("Charger"), queryset=Charger.objects.none(), required=False
    )
    connector = forms.ModelChoiceField(
        label=_("Connector"), queryset=Connector.objects.none(), required=False
    )
    group = forms.ModelChoiceField(
        label=_("Group"),
        queryset=IdToken.objects.none(),
        required=False,
        help_text=_("Only sessions of this id-token group, over any place's tariff."),
    )
    priority = forms.IntegerField(label=_("Priority"), initial=0)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Choices read in the request's tenant scope (never at import time).
        self.fields["site"].queryset = Site.objects.all()  # type: ignore[attr-defined]
        self.fields["charger"].queryset = Charger.objects.all()  # type: ignore[attr-defined]
        self.fields["connector"].queryset = Connector.objects.select_related(  # type: ignore[attr-defined]
            "charger"
        )
        self.fields["group"].queryset = IdToken.objects.all()  # type: ignore[attr-defined]


class PreviewForm(forms.Form):
    """'A 22 kWh session starting Friday 17:40 for 2 h 10 min costs ...' (local time)."""

    start = forms.DateTimeField(label=_("Starting"), help_text=_("Local time of the site."))
    hours = forms.IntegerField(label=_("Hours"), min_value=0, max_value=167, initial=2)
    minutes = forms.IntegerField(label=_("Minutes"), min_value=0, max_value=59, initial=10)
    energy_kwh = forms.DecimalField(
        label=_("Energy (kWh)"), min_value=0, max_digits=10, decimal_places=3, initial=22
    )
    charging_minutes = forms.IntegerField(
        min_value=0,
        required=False,
        label=_("Charging for (min)"),
        help_text=_("Energy flows this long; the rest is parking. Empty: the whole time."),
    )
    site = forms.ModelChoiceField(label=_("Site"), queryset=Site.objects.none(), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = Site.objects.all()  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        total = (data.get("hours") or 0) * 60 + (data.get("minutes") or 0)
        charging = data.get("charging_minutes")
        if charging is not None and charging > total:
            self.add_error("charging_minutes", gettext("At most the whole session."))
        if data.get("energy_kwh") and (charging == 0 or total == 0):
            self.add_error("energy_kwh", gettext("Energy needs charging time."))
        return data

    def session(self, tz: zoneinfo.ZoneInfo) -> Hypothetical:
        data = self.cleaned_data
        # The wall-clock time typed, in the site's zone; arithmetic in UTC (a DST change
        # inside the session must not stretch it).
        start: datetime = data["start"].replace(tzinfo=None).replace(tzinfo=tz).astimezone(UTC)
        total = timedelta(minutes=data["hours"] * 60 + data["minutes"])
        charging = data.get("charging_minutes")
        charging_for = total if charging is None else timedelta(minutes=charging)
        return Hypothetical(
            start=start,
            charging_end=start + charging_for,
            end=start + total,
            energy_kwh=data["energy_kwh"],
        )


class BillingSettingsForm(TenantModelForm):
    """The billing settings page; the service checks what Factur-X needs."""

    class Meta:
        model = BillingSettings
        fields = list(SETTINGS_FIELDS)
        # The model's field names, as the page shows them, in the reader's language.
        labels = {
            "cost_update_seconds": _("Cost update seconds"),
            "legal_name": _("Legal name"),
            "street": _("Street"),
            "postal_code": _("Postal code"),
            "city": _("City"),
            "country": _("Country"),
            "vat_id": _("VAT id"),
            "payment_terms": _("Payment terms"),
            "facturx": _("Factur-X e-invoices"),
        }
        help_texts = {
            "legal_name": _("As registered; the tenant's name when empty."),
            "country": _("ISO 3166 alpha-2, e.g. DE."),
            "facturx": _(
                "Invoices issued from now on are PDF/A-3 documents with their EN 16931 XML "
                "(Factur-X / ZUGFeRD) embedded."
            ),
        }

    def clean_country(self) -> str:
        return str(self.cleaned_data["country"]).strip().upper()


class CustomerForm(TenantModelForm):
    """A customer and the id-token groups it pays for; the service checks that a group is
    billed to one customer and that e-invoices have the customer's country."""

    groups = forms.ModelMultipleChoiceField(
        label=_("Id-token groups"),
        queryset=IdToken.objects.all(),
        required=False,
        help_text=_(
            "The tokens other tokens name as their group; their sessions are invoiced here."
        ),
    )

    class Meta:
        model = Customer
        fields = ["name", "kind", "email", "street", "postal_code", "city", "country", "vat_id"]
        labels = {
            "name": _("Name"),
            "kind": _("Kind"),
            "email": _("Email"),
            "street": _("Street"),
            "postal_code": _("Postal code"),
            "city": _("City"),
            "country": _("Country"),
            "vat_id": _("VAT id"),
        }
        help_texts = {
            "email": _("Where invoices go."),
            "country": _("ISO 3166 alpha-2, e.g. DE."),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        groups = cast(forms.ModelMultipleChoiceField, self.fields["groups"])
        groups.queryset = IdToken.objects.order_by("uid")
        if self.instance.pk:
            self.fields["groups"].initial = [g.group_id for g in self.instance.groups.all()]

    def clean_country(self) -> str:
        country = str(self.cleaned_data["country"]).strip().upper()
        if country and not re.fullmatch(r"[A-Z]{2}", country):
            raise ValidationError(gettext("Use an ISO 3166 alpha-2 code such as DE."))
        return country

    def values(self) -> dict[str, Any]:
        return {**super().values(), "groups": list(self.cleaned_data["groups"])}
