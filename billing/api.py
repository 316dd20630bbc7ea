"""Tariffs, where they apply, price previews and charge detail records in the REST API.

Tariffs take and show OCPI 2.2.1's fields as OCPI spells them (`currency`, `elements`,
`min_price`, `max_price`, `start_date_time`, `end_date_time`), plus `name`, the parking grace
and the version in force. Records show OCPI's CDR names (`total_cost`, `total_energy`,
`total_time`, `total_parking_time`, `charging_periods`, `tariffs`). Amounts are decimal strings
in the currency's minor unit; energy in kWh, times in hours.
"""

from __future__ import annotations

import zoneinfo
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from django.db.models import Prefetch
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_serializer,
    extend_schema_view,
)
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from billing import access, documents, selectors, services
from billing import api_examples as bx
from billing.exports import cdrs_csv, invoice_lines_csv, invoices_csv
from billing.models import (
    BillingSettings,
    ChargeDetailRecord,
    Customer,
    Invoice,
    InvoiceKind,
    SiteShare,
    Statement,
    Tariff,
    TariffAssignment,
    TariffVersion,
)
from billing.pricing import DAYS, DIMENSIONS, RESERVATION_KINDS, Priced, from_minor
from chargers.models import IdToken
from cpms.api.base import (
    CrudViewSet,
    CsvRenderer,
    CursorPaged,
    PdfRenderer,
    TenantModelSerializer,
    TenantPrimaryKeyRelatedField,
    TenantSettingsViewSet,
    TenantViewSet,
    time_range,
)
from cpms.models import Site

# The dimensions a record's charging periods show (OCPI's CdrDimensionType, those we measure).
CDR_DIMENSIONS = ("ENERGY", "TIME", "PARKING_TIME", "MAX_CURRENT")
CLOCK = r"^([0-1][0-9]|2[0-3]):[0-5][0-9]$"
DAY = r"^[12][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"


def _decimal(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=None, decimal_places=6, min_value=0, coerce_to_string=False, **kwargs
    )


def _shown(**kwargs: Any) -> serializers.DecimalField:
    """A figure as computed: a decimal string, not padded to a fixed number of places."""
    return serializers.DecimalField(max_digits=None, decimal_places=None, **kwargs)


class PriceComponentSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=DIMENSIONS)
    price = _decimal(help_text="Per kWh (ENERGY), hour (TIME, PARKING_TIME) or session (FLAT).")
    vat = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=0,
        max_value=100,
        coerce_to_string=False,
        required=False,
        allow_null=True,
        help_text="A percentage; left out: no VAT applies (not the same as 0).",
    )
    step_size = serializers.IntegerField(
        min_value=1, default=1, help_text="Billed in steps of this many Wh or seconds."
    )


class RestrictionsSerializer(serializers.Serializer):
    start_time = serializers.RegexField(CLOCK, required=False, help_text="Site's local time.")
    end_time = serializers.RegexField(CLOCK, required=False, help_text="Before start: wraps.")
    start_date = serializers.RegexField(DAY, required=False)
    end_date = serializers.RegexField(DAY, required=False, help_text="Exclusive.")
    min_kwh = _decimal(required=False)
    max_kwh = _decimal(required=False)
    min_current = _decimal(required=False)
    max_current = _decimal(required=False)
    min_power = _decimal(required=False)
    max_power = _decimal(required=False)
    min_duration = serializers.IntegerField(min_value=0, required=False)
    max_duration = serializers.IntegerField(min_value=0, required=False)
    day_of_week = serializers.ListField(child=serializers.ChoiceField(choices=DAYS), required=False)
    reservation = serializers.ChoiceField(choices=RESERVATION_KINDS, required=False)


class ElementSerializer(serializers.Serializer):
    price_components = PriceComponentSerializer(many=True)
    restrictions = RestrictionsSerializer(required=False)


class PriceSerializer(serializers.Serializer):
    excl_vat = _decimal()
    incl_vat = _decimal(required=False)


class VersionSummarySerializer(serializers.Serializer):
    version = serializers.IntegerField(source="number")
    effective_from = serializers.DateTimeField()
    created_at = serializers.DateTimeField()


def _without_absent(data: dict[str, Any], key: str) -> dict[str, Any]:
    """OCPI leaves out what a tariff does not say: no restrictions, no VAT (which is not 0%)."""
    for element in data[key]:
        if not element.get("restrictions"):
            element.pop("restrictions", None)
        for component in element["price_components"]:
            if component.get("vat") is None:
                component.pop("vat", None)
    return data


@extend_schema_serializer(examples=[bx.returns("A tariff", bx.TARIFF)])
class TariffSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=200)
    currency = serializers.CharField(max_length=3, help_text="ISO 4217, e.g. EUR.")
    elements = ElementSerializer(many=True)
    min_price = PriceSerializer(required=False, allow_null=True)
    max_price = PriceSerializer(required=False, allow_null=True)
    start_date_time = serializers.DateTimeField(required=False, allow_null=True)
    end_date_time = serializers.DateTimeField(required=False, allow_null=True)
    parking_grace_minutes = serializers.IntegerField(
        min_value=0, max_value=24 * 60, required=False, help_text="Free parking per session."
    )
    effective_from = serializers.DateTimeField(
        required=False,
        help_text="When these terms take effect (now, or later); a change is a new version.",
    )
    version = serializers.IntegerField(read_only=True)
    versions = VersionSummarySerializer(many=True, read_only=True)
    last_updated = serializers.DateTimeField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)

    def to_representation(self, instance: Tariff) -> dict[str, Any]:
        current = instance.current
        shown = SimpleNamespace(
            id=instance.pk,
            name=instance.name,
            currency=instance.currency,
            elements=current.elements,
            min_price=current.min_price,
            max_price=current.max_price,
            start_date_time=current.start_date_time,
            end_date_time=current.end_date_time,
            parking_grace_minutes=current.parking_grace_minutes,
            effective_from=current.effective_from,
            version=current.number,
            versions=sorted(instance.versions.all(), key=lambda v: -v.number),
            last_updated=current.created_at,
            created_at=instance.created_at,
        )
        return _without_absent(super().to_representation(shown), "elements")


class PriceRequestSerializer(serializers.Serializer):
    start = serializers.DateTimeField(help_text="Plugged in.")
    charging_end = serializers.DateTimeField(help_text="Energy stops flowing.")
    end = serializers.DateTimeField(help_text="Unplugged.")
    energy_kwh = _decimal()
    max_power_kw = _decimal(required=False, allow_null=True)
    group = TenantPrimaryKeyRelatedField(
        queryset=IdToken.objects.all(), required=False, allow_null=True
    )
    site = TenantPrimaryKeyRelatedField(
        queryset=Site.objects.all(),
        required=False,
        allow_null=True,
        help_text="Whose time zone bands follow; the tenant's when left out.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, charging_end, end = attrs["start"], attrs["charging_end"], attrs["end"]
        if charging_end < start:
            raise serializers.ValidationError({"charging_end": ["Must not be before start."]})
        if end < charging_end:
            raise serializers.ValidationError({"end": ["Must not be before charging_end."]})
        if attrs["energy_kwh"] and charging_end == start:
            raise serializers.ValidationError(
                {"charging_end": ["Energy needs charging time: set it after start."]}
            )
        if end - start > timedelta(days=7):
            raise serializers.ValidationError({"end": ["A session of at most seven days."]})
        return attrs


class MoneySerializer(serializers.Serializer):
    excl_vat = _shown()
    incl_vat = _shown()


class LineSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=DIMENSIONS)
    element = serializers.IntegerField(help_text="Index of the tariff element that priced it.")
    price = _shown()
    vat = _shown(allow_null=True)
    step_size = serializers.IntegerField()
    volume = _shown(help_text="Billed: kWh, hours, or 1 (FLAT).")
    excl_vat = _shown()
    reservation = serializers.BooleanField(
        default=False, help_text="A reservation's cost (TIME: hours reserved), not the session's."
    )


class VatGroupSerializer(serializers.Serializer):
    vat = _shown(allow_null=True)
    base = _shown()
    amount = _shown()


@extend_schema_serializer(examples=[bx.returns("A session's price", bx.PRICE, 200)])
class PricedSerializer(serializers.Serializer):
    tariff = serializers.IntegerField()
    tariff_version = serializers.IntegerField()
    group = serializers.IntegerField(allow_null=True)
    currency = serializers.CharField()
    total_cost = MoneySerializer()
    total_energy = _shown(help_text="kWh.")
    total_time = _shown(help_text="Hours, plugged in.")
    total_charging_time = _shown()
    total_parking_time = _shown()
    lines = LineSerializer(many=True)
    vat_groups = VatGroupSerializer(many=True)
    adjustment = MoneySerializer(help_text="What min_price or max_price changed.")


def priced_body(
    tariff: Tariff, version: TariffVersion, priced: Priced, group: int | None
) -> dict[str, Any]:
    return {
        "tariff": tariff.pk,
        "tariff_version": version.number,
        "group": group,
        "currency": priced.currency,
        "total_cost": {"excl_vat": priced.total_excl_vat, "incl_vat": priced.total_incl_vat},
        "total_energy": priced.total_energy,
        "total_time": priced.total_time,
        "total_charging_time": priced.total_charging_time,
        "total_parking_time": priced.total_parking_time,
        "lines": [line.as_dict() for line in priced.lines],
        "vat_groups": [{"vat": g.rate, "base": g.base, "amount": g.vat} for g in priced.vat_groups],
        "adjustment": {
            "excl_vat": priced.adjustment_excl_vat,
            "incl_vat": priced.adjustment_incl_vat,
        },
    }


@extend_schema_view(
    create=extend_schema(
        examples=bx.exchange(
            "Energy, a start fee, parking after a grace period",
            request=bx.NEW_TARIFF,
            response=bx.TARIFF,
            status=201,
        )
    ),
    partial_update=extend_schema(
        examples=bx.exchange(
            "A new price from tomorrow: the next version",
            request=bx.TARIFF_CHANGE,
            response=bx.CHANGED_TARIFF,
        )
    ),
)
class TariffViewSet(CrudViewSet):
    """Tariffs, OCPI 2.2.1-shaped. Admins write; a change of terms is a new version, so an
    issued record keeps the terms that priced it. Deleting withdraws a tariff (its
    assignments go; it stays for the records it priced)."""

    serializer_class = TariffSerializer
    read_role = access.READ
    write_role = access.MANAGE_TARIFFS
    action_roles = {"price": access.PREVIEW_PRICES}
    filterset_fields = ["currency"]
    ordering_fields = ["name", "created_at"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return selectors.live_tariffs().prefetch_related(
            Prefetch("versions", queryset=TariffVersion.objects.all())
        )

    def _user(self):
        user = self.request.auth.user
        return user if getattr(user, "pk", None) else None

    def create_row(self, **data):
        return services.tariff_create(user=self._user(), **data)

    def update_row(self, instance, **data):
        tariff, _ = services.tariff_update(tariff=instance, user=self._user(), **data)
        return self.get_queryset().get(pk=tariff.pk)

    def delete_row(self, instance):
        services.tariff_delete(tariff=instance)

    def perform_create(self, serializer):
        tariff = self.create_row(**serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=tariff.pk)

    @extend_schema(
        request=PriceRequestSerializer,
        responses={200: PricedSerializer},
        examples=bx.exchange(
            "22 kWh from Friday 17:40 for 2 h 10 min", request=bx.PRICE_REQUEST, response=bx.PRICE
        ),
    )
    @action(detail=True, methods=["post"])
    def price(self, request, pk=None):
        """What a session would cost under this tariff: plugged in at `start`, energy flowing
        until `charging_end`, unplugged at `end`. Priced by the version in force at `start`,
        in the time zone of `site` (the tenant's without one). Changes nothing."""
        tariff = self.get_object()
        body = PriceRequestSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = body.validated_data
        site = data.get("site")
        tz = zoneinfo.ZoneInfo(site.timezone if site else self.tenant.timezone)
        version, priced = selectors.preview(
            tariff,
            selectors.Hypothetical(
                start=data["start"],
                charging_end=data["charging_end"],
                end=data["end"],
                energy_kwh=data["energy_kwh"],
                max_power_kw=data.get("max_power_kw"),
            ),
            tz,
        )
        group = data.get("group")
        result = PricedSerializer(priced_body(tariff, version, priced, group and group.pk))
        return Response(result.data)


@extend_schema_serializer(examples=[bx.returns("A site's tariff", bx.ASSIGNMENT)])
class TariffAssignmentSerializer(TenantModelSerializer):
    place = serializers.CharField(read_only=True)

    class Meta:
        model = TariffAssignment
        fields = [
            "id",
            "tariff",
            "site",
            "charger",
            "connector",
            "group",
            "priority",
            "place",
            "created_at",
        ]


@extend_schema_view(
    create=extend_schema(
        examples=bx.exchange(
            "A tariff for one site",
            request=bx.pick(bx.ASSIGNMENT, "tariff", "site", "priority"),
            response=bx.ASSIGNMENT,
            status=201,
        )
    ),
    partial_update=extend_schema(
        examples=bx.exchange(
            "Fleet cards pay the fleet tariff there",
            request={"group": 12, "priority": 10},
            response={**bx.ASSIGNMENT, "group": 12, "priority": 10},
        )
    ),
)
class TariffAssignmentViewSet(CrudViewSet):
    """Where tariffs apply: the tenant (no place), a site, a charger or a connector, and per
    id-token group over those, by priority. Admins write."""

    serializer_class = TariffAssignmentSerializer
    read_role = access.READ
    write_role = access.MANAGE_TARIFFS
    filterset_fields = ["tariff", "site", "charger", "connector", "group"]
    ordering_fields = ["priority", "created_at"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return TariffAssignment.objects.all()

    def create_row(self, **data):
        return services.assignment_create(**data)

    def update_row(self, instance, **data):
        return services.assignment_update(assignment=instance, **data)

    def delete_row(self, instance):
        services.assignment_delete(assignment=instance)


class TariffUsedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    version = serializers.IntegerField()
    currency = serializers.CharField()
    elements = ElementSerializer(many=True)
    min_price = PriceSerializer(allow_null=True)
    max_price = PriceSerializer(allow_null=True)


class PeriodDimensionSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=CDR_DIMENSIONS)
    volume = _shown()


class ChargingPeriodSerializer(serializers.Serializer):
    start_date_time = serializers.DateTimeField()
    dimensions = PeriodDimensionSerializer(many=True)


class TokenSerializer(serializers.Serializer):
    uid = serializers.CharField()
    id_token = serializers.IntegerField(allow_null=True)
    group = serializers.IntegerField(allow_null=True)


@extend_schema_serializer(examples=[bx.returns("A priced session", bx.CDR)])
class CdrSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    session = serializers.IntegerField(
        source="session_id", allow_null=True, help_text="None: an expired reservation's record."
    )
    reservation = serializers.IntegerField(
        source="reservation_id",
        allow_null=True,
        help_text="The reservation that expired unused this record prices (a session's record "
        "shows the reservation it used as lines marked `reservation`).",
    )
    version = serializers.IntegerField()
    supersedes = serializers.IntegerField(source="supersedes_id", allow_null=True)
    superseded = serializers.BooleanField()
    issued_at = serializers.DateTimeField()
    start_date_time = serializers.DateTimeField()
    end_date_time = serializers.DateTimeField()
    charger = serializers.IntegerField(source="charger_id")
    charger_identity = serializers.CharField(source="charger.identity")
    site = serializers.IntegerField(source="site_id", allow_null=True)
    evse_id = serializers.IntegerField()
    connector_id = serializers.IntegerField()
    cdr_token = TokenSerializer()
    currency = serializers.CharField()
    tariffs = TariffUsedSerializer(many=True)
    charging_periods = ChargingPeriodSerializer(many=True)
    total_cost = MoneySerializer()
    total_energy = _shown()
    total_time = _shown()
    total_parking_time = _shown()
    lines = LineSerializer(many=True)
    vat_groups = VatGroupSerializer(many=True)

    def to_representation(self, cdr: ChargeDetailRecord) -> dict[str, Any]:
        version = cdr.tariff_version
        shown = SimpleNamespace(
            id=cdr.pk,
            session_id=cdr.session_id,
            reservation_id=cdr.reservation_id,
            version=cdr.version,
            supersedes_id=cdr.supersedes_id,
            superseded=hasattr(cdr, "superseded_by"),
            issued_at=cdr.issued_at,
            start_date_time=cdr.start_date_time,
            end_date_time=cdr.end_date_time,
            charger_id=cdr.charger_id,
            charger=cdr.charger,
            site_id=cdr.site_id,
            evse_id=cdr.evse_id,
            connector_id=cdr.connector_id,
            cdr_token={"uid": cdr.id_tag, "id_token": cdr.id_token_id, "group": cdr.group_id},
            currency=cdr.currency,
            tariffs=[
                {
                    "id": cdr.tariff_id,
                    "name": cdr.tariff.name,
                    "version": version.number,
                    "currency": cdr.currency,
                    "elements": version.elements,
                    "min_price": version.min_price,
                    "max_price": version.max_price,
                }
            ],
            charging_periods=cdr.charging_periods,
            total_cost={
                "excl_vat": from_minor(cdr.total_excl_vat_minor, cdr.currency),
                "incl_vat": from_minor(cdr.total_incl_vat_minor, cdr.currency),
            },
            total_energy=cdr.total_energy,
            total_time=cdr.total_time,
            total_parking_time=cdr.total_parking_time,
            lines=cdr.lines,
            vat_groups=cdr.vat_groups,
        )
        data = super().to_representation(shown)
        _without_absent(data["tariffs"][0], "elements")
        return data


class CdrFilter(filters.FilterSet):
    session = filters.NumberFilter(field_name="session_id")
    site = filters.NumberFilter(field_name="site_id")
    charger = filters.NumberFilter(field_name="charger_id")
    group = filters.NumberFilter(field_name="group_id")
    tariff = filters.NumberFilter(field_name="tariff_id")
    current = filters.BooleanFilter(
        field_name="superseded_by",
        lookup_expr="isnull",
        label="Only each session's current record (true) or only superseded ones (false).",
    )
    started_after, started_before = time_range("start_date_time")

    class Meta:
        model = ChargeDetailRecord
        fields = ["session", "site", "charger", "group", "tariff", "currency"]


@extend_schema_view(
    list=extend_schema(description="Priced sessions, newest first, by cursor."),
)
class CdrViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CursorPaged, TenantViewSet):
    """Charge detail records: each ended session priced by the tariff version in force when it
    started. A correction is the session's next version; `?session=<id>` lists them all."""

    serializer_class = CdrSerializer
    read_role = access.READ
    filterset_class = CdrFilter
    ordering_fields = ["id", "issued_at"]

    def get_queryset(self):
        return ChargeDetailRecord.objects.select_related(
            "charger", "tariff", "tariff_version", "superseded_by"
        )

    @extend_schema(
        parameters=[OpenApiParameter("format", str, enum=["csv"], required=False)],
        responses={(200, "text/csv"): OpenApiTypes.STR},
        examples=bx.download("Records as CSV", bx.CDRS_CSV, "text/csv"),
    )
    @action(detail=False, methods=["get"], renderer_classes=[JSONRenderer, CsvRenderer])
    def export(self, request):
        """The filtered records as CSV (the same filters as the list), oldest session first,
        times in the tenant's time zone; cells a spreadsheet would run as formulas are
        neutralised."""
        return cdrs_csv(
            self.filter_queryset(self.get_queryset()),
            tz=zoneinfo.ZoneInfo(self.tenant.timezone),
            tenant=self.tenant,
            filename="charge-detail-records.csv",
        )


@extend_schema_serializer(examples=[bx.returns("A fleet", bx.CUSTOMER)])
class CustomerSerializer(TenantModelSerializer):
    groups = TenantPrimaryKeyRelatedField(
        queryset=IdToken.objects.all(),
        many=True,
        required=False,
        help_text="Id-token groups whose sessions this customer pays for.",
    )

    class Meta:
        model = Customer
        fields = [
            "id",
            "name",
            "kind",
            "email",
            "street",
            "postal_code",
            "city",
            "country",
            "vat_id",
            "groups",
            "created_at",
        ]

    def to_representation(self, instance: Customer) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["groups"] = sorted(g.group_id for g in instance.groups.all())
        return data


@extend_schema_view(
    create=extend_schema(
        examples=bx.exchange(
            "A fleet paying for its cards",
            request=bx.pick(bx.CUSTOMER, "name", "kind", "email", "vat_id", "groups"),
            response=bx.CUSTOMER,
            status=201,
        )
    ),
    partial_update=extend_schema(
        examples=bx.exchange(
            "New billing address",
            request={"street": "Am Sandtorkai 1"},
            response={**bx.CUSTOMER, "street": "Am Sandtorkai 1"},
        )
    ),
)
class CustomerViewSet(CrudViewSet):
    """Who pays: fleets, employers, driver accounts, each for the id-token groups it owns.
    Invoiced monthly. Admins write."""

    serializer_class = CustomerSerializer
    read_role = access.READ
    write_role = access.MANAGE_CUSTOMERS
    filterset_fields = ["kind"]
    ordering_fields = ["name", "created_at"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return Customer.objects.prefetch_related("groups")

    def create_row(self, **data):
        return services.customer_create(**data)

    def update_row(self, instance, **data):
        return services.customer_update(customer=instance, **data)

    def delete_row(self, instance):
        services.customer_delete(customer=instance)


class InvoiceLineSerializer(serializers.Serializer):
    cdr = serializers.IntegerField(source="cdr_id")
    session = serializers.IntegerField(source="cdr.session_id")
    description = serializers.CharField()
    # Shown in the currency's units: the invoice's serializer converts the minor units.
    total_excl_vat = _shown(source="total_excl_vat_minor")
    total_incl_vat = _shown(source="total_incl_vat_minor")


class InvoiceVatSerializer(serializers.Serializer):
    vat = serializers.CharField(allow_null=True, help_text="A rate, or 'bounds' (min/max price).")
    base = _shown()
    amount = _shown()


@extend_schema_serializer(
    examples=[bx.returns("An invoice", bx.INVOICE), bx.returns("A credit note", bx.CREDIT_NOTE)]
)
class InvoiceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField(source="display_number")
    kind = serializers.ChoiceField(choices=InvoiceKind.choices)
    customer = serializers.IntegerField(source="customer_id")
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    issued_at = serializers.DateTimeField()
    currency = serializers.CharField()
    total_excl_vat = _shown(source="total_excl_vat_minor")
    total_incl_vat = _shown(source="total_incl_vat_minor")
    vat_groups = InvoiceVatSerializer(many=True)
    credits = serializers.IntegerField(source="credits_id", allow_null=True)
    reason = serializers.CharField()
    lines = InvoiceLineSerializer(many=True)

    def to_representation(self, invoice: Invoice) -> dict[str, Any]:
        data = super().to_representation(invoice)
        data["total_excl_vat"] = str(from_minor(invoice.total_excl_vat_minor, invoice.currency))
        data["total_incl_vat"] = str(from_minor(invoice.total_incl_vat_minor, invoice.currency))
        for line, row in zip(data["lines"], invoice.lines.all(), strict=True):
            line["total_excl_vat"] = str(from_minor(row.total_excl_vat_minor, invoice.currency))
            line["total_incl_vat"] = str(from_minor(row.total_incl_vat_minor, invoice.currency))
        return data


class CreditSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class InvoiceFilter(filters.FilterSet):
    customer = filters.NumberFilter(field_name="customer_id")
    issued_after, issued_before = time_range("issued_at")

    class Meta:
        model = Invoice
        fields = ["customer", "kind", "currency"]


class InvoiceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CursorPaged, TenantViewSet):
    """Invoices and credit notes as issued (monthly, per customer and currency, numbered per
    series without gaps); never changed: a credit note corrects an invoice."""

    serializer_class = InvoiceSerializer
    read_role = access.READ
    action_roles = {"credit": access.CREDIT_INVOICES}
    filterset_class = InvoiceFilter
    ordering_fields = ["id", "issued_at"]

    def get_queryset(self):
        return Invoice.objects.select_related("tenant", "credits").prefetch_related("lines__cdr")

    @extend_schema(
        parameters=[OpenApiParameter("format", str, enum=["csv"], required=False)],
        responses={(200, "text/csv"): OpenApiTypes.STR},
        examples=bx.download("Invoices as CSV", bx.INVOICES_CSV, "text/csv"),
    )
    @action(detail=False, methods=["get"], renderer_classes=[JSONRenderer, CsvRenderer])
    def export(self, request):
        """The filtered invoices and credit notes as CSV (the same filters as the list),
        oldest first: number, customer, issue date in the tenant's time zone, period,
        currency, totals, what a credit note credits and what credited an invoice. Cells a
        spreadsheet would run as formulas are neutralised."""
        return invoices_csv(
            # The lines the JSON shows are no column here.
            self.filter_queryset(self.get_queryset()).prefetch_related(None),
            tz=zoneinfo.ZoneInfo(self.tenant.timezone),
            tenant=self.tenant,
            filename="invoices.csv",
        )

    @extend_schema(
        parameters=[OpenApiParameter("format", str, enum=["pdf"], required=False)],
        responses={(200, "application/pdf"): OpenApiTypes.BINARY},
        examples=bx.download("An invoice as PDF", bx.PDF, "application/pdf"),
    )
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, PdfRenderer])
    def pdf(self, request, pk=None):
        """The invoice or credit note as PDF, named by its number; a Factur-X e-invoice is a
        PDF/A-3 carrying its EN 16931 XML as factur-x.xml."""
        invoice = self.get_object()
        return documents.pdf_response(
            documents.invoice_pdf(invoice), documents.invoice_filename(invoice)
        )

    @extend_schema(
        parameters=[OpenApiParameter("format", str, enum=["csv"], required=False)],
        responses={(200, "text/csv"): OpenApiTypes.STR},
        examples=bx.download("An invoice's lines as CSV", bx.INVOICE_LINES_CSV, "text/csv"),
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="lines/export",
        url_name="lines-export",
        renderer_classes=[JSONRenderer, CsvRenderer],
    )
    def lines_export(self, request, pk=None):
        """The invoice's lines as CSV: one session each, with its record, charger, times in
        the tenant's time zone, energy and amounts (negative on a credit note)."""
        invoice = self.get_object()
        return invoice_lines_csv(
            invoice,
            tz=zoneinfo.ZoneInfo(self.tenant.timezone),
            tenant=self.tenant,
            filename=documents.invoice_filename(invoice, "-lines.csv"),
        )

    @extend_schema(
        request=CreditSerializer,
        responses={201: InvoiceSerializer},
        examples=bx.exchange(
            "Credit a whole invoice",
            request={"reason": "Charger was miscalibrated"},
            response=bx.CREDIT_NOTE,
            status=201,
        ),
    )
    @action(detail=True, methods=["post"])
    def credit(self, request, pk=None):
        """Issue a credit note for what of this invoice is not credited yet, with a reason."""
        invoice = self.get_object()
        body = CreditSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        note = services.invoice_credit(invoice=invoice, reason=body.validated_data["reason"])
        return Response(InvoiceSerializer(self.get_queryset().get(pk=note.pk)).data, status=201)


@extend_schema_serializer(examples=[bx.returns("Thirty percent, less 25 a month", bx.SITE_SHARE)])
class SiteShareSerializer(TenantModelSerializer):
    class Meta:
        model = SiteShare
        fields = ["id", "site", "revenue_share_percent", "monthly_fee"]


@extend_schema_view(
    create=extend_schema(
        examples=bx.exchange(
            "A mall's share",
            request=bx.pick(bx.SITE_SHARE, "site", "revenue_share_percent", "monthly_fee"),
            response=bx.SITE_SHARE,
            status=201,
        )
    ),
    partial_update=extend_schema(
        examples=bx.exchange(
            "A new share from the next statement",
            request={"revenue_share_percent": "35.00"},
            response={**bx.SITE_SHARE, "revenue_share_percent": "35.00"},
        )
    ),
)
class SiteShareViewSet(CrudViewSet):
    """The share of each site's revenue (excluding VAT) its owner gets, less a monthly fee:
    what site owners' statements settle. Admins write."""

    serializer_class = SiteShareSerializer
    read_role = access.READ
    write_role = access.MANAGE_SITE_SHARES
    filterset_fields = ["site"]
    ordering_fields = ["id"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return SiteShare.objects.all()

    def create_row(self, **data):
        return services.site_share_set(**data)

    def update_row(self, instance, **data):
        values = {
            "site": instance.site,
            "revenue_share_percent": instance.revenue_share_percent,
            "monthly_fee": instance.monthly_fee,
            **data,
        }
        if values["site"] != instance.site:
            raise serializers.ValidationError({"site": ["A share stays with its site."]})
        return services.site_share_set(**values)

    def delete_row(self, instance):
        services.site_share_delete(share=instance)


class StatementSiteSerializer(serializers.Serializer):
    site = serializers.IntegerField()
    name = serializers.CharField()
    sessions = serializers.IntegerField()
    energy_kwh = _shown()
    revenue = _shown()
    share_percent = _shown()
    share = _shown()
    fee = _shown()


@extend_schema_serializer(examples=[bx.returns("March at the mall", bx.STATEMENT)])
class StatementSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    site_owner = serializers.IntegerField(source="site_owner_id")
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    issued_at = serializers.DateTimeField()
    currency = serializers.CharField()
    revenue = _shown(source="revenue_minor", help_text="Excluding VAT.")
    share = _shown(source="share_minor")
    fees = _shown(source="fees_minor")
    payout = _shown(source="payout_minor")
    sites = StatementSiteSerializer(many=True)

    def to_representation(self, statement: Statement) -> dict[str, Any]:
        data = super().to_representation(statement)
        for field in ("revenue", "share", "fees", "payout"):
            minor = getattr(statement, f"{field}_minor")
            data[field] = str(from_minor(minor, statement.currency))
        return data


class StatementViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, CursorPaged, TenantViewSet
):
    """Site owners' monthly settlement statements: revenue, share, fees withheld, payout."""

    serializer_class = StatementSerializer
    read_role = access.READ
    filterset_fields = ["site_owner", "currency"]
    ordering_fields = ["id", "issued_at"]

    def get_queryset(self):
        return Statement.objects.select_related("tenant")

    @extend_schema(
        parameters=[OpenApiParameter("format", str, enum=["pdf"], required=False)],
        responses={(200, "application/pdf"): OpenApiTypes.BINARY},
        examples=bx.download("A statement as PDF", bx.PDF, "application/pdf"),
    )
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, PdfRenderer])
    def pdf(self, request, pk=None):
        """The statement as PDF, as the site owner gets it in the portal."""
        statement = self.get_object()
        return documents.pdf_response(
            documents.statement_pdf(statement), documents.statement_filename(statement)
        )


# --- Billing settings ---------------------------------------------------------------------------

BILLING_SETTINGS = {
    "cost_update_seconds": 60,
    "legal_name": "Demo Charging GmbH",
    "street": "Hafenstraße 1",
    "postal_code": "20457",
    "city": "Hamburg",
    "country": "DE",
    "vat_id": "DE123456789",
    "payment_terms": "Payable within 14 days without deduction.",
    "facturx": True,
}


class BillingSettingsSerializer(serializers.ModelSerializer):
    class Meta:
        model = BillingSettings
        fields = list(services.SETTINGS_FIELDS)


@extend_schema_view(
    retrieve=extend_schema(examples=bx.exchange("The settings", response=BILLING_SETTINGS)),
    partial_update=extend_schema(
        examples=bx.exchange(
            "Running cost every two minutes",
            request={"cost_update_seconds": 120},
            response={**BILLING_SETTINGS, "cost_update_seconds": 120},
        )
    ),
)
class BillingSettingsViewSet(TenantSettingsViewSet):
    """The tenant's billing settings: how often chargers are sent a running session's cost,
    the seller's legal details invoices show, and Factur-X e-invoices (refused, naming each
    missing field, until those details are complete). Admins only."""

    serializer_class = BillingSettingsSerializer
    read_role = write_role = access.MANAGE_BILLING_SETTINGS

    def current(self):
        return selectors.billing_settings()

    def change(self, **values):
        return services.billing_settings_set(**values)
