"""Charging sessions in the API, whichever OCPP version reported them, and their CSV export."""

from __future__ import annotations

import zoneinfo

from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
    extend_schema_view,
)
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.renderers import JSONRenderer

from chargers.exports import sessions_csv
from chargers.integrity import (
    FLAG_CHOICES,
    FLAGS,
    flag_filter,
    session_flags,
    with_integrity,
)
from chargers.models import ChargingSession
from cpms.api import examples as ex
from cpms.api.base import CsvRenderer, CursorPaged, TenantViewSet, time_range
from cpms.exports import export_filename

INTEGRITY_HELP = (
    "Why the session's figures may not be simply what its charger measured: "
    + "; ".join(f"`{flag.name}`: {flag.explanation}" for flag in FLAGS.values())
)


@extend_schema_serializer(examples=[ex.returns("A session", ex.SESSION)])
class SessionSerializer(serializers.ModelSerializer):
    charger_identity = serializers.CharField(source="charger.identity", read_only=True)
    integrity = serializers.SerializerMethodField(help_text=INTEGRITY_HELP)

    class Meta:
        model = ChargingSession
        fields = [
            "id",
            "charger",
            "charger_identity",
            "site",
            "evse_id",
            "connector_id",
            "transaction_id",
            "state",
            "id_token",
            "id_tag",
            "auth_status",
            "started_at",
            "stopped_at",
            "meter_start_wh",
            "meter_stop_wh",
            "energy_wh",
            "power_w",
            "stop_reason",
            "closed_by_server",
            "integrity",
            "updated_at",
        ]

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=FLAG_CHOICES)))
    def get_integrity(self, session) -> list[str]:
        return session_flags(session)


class SessionFilter(filters.FilterSet):
    site = filters.NumberFilter(field_name="site_id")
    charger = filters.NumberFilter(field_name="charger_id")
    id_token = filters.NumberFilter(field_name="id_token_id")
    id_tag = filters.CharFilter(field_name="id_tag", lookup_expr="iexact")
    started_after, started_before = time_range("started_at")
    integrity = filters.ChoiceFilter(
        choices=[("any", "Any integrity flag"), *FLAG_CHOICES],
        method="with_flag",
        help_text="Only sessions with this integrity flag, or with any of them (`any`).",
    )

    class Meta:
        model = ChargingSession
        fields = ["site", "charger", "id_token", "id_tag", "state"]

    def with_flag(self, sessions, name, value):
        return sessions.filter(flag_filter(value))


@extend_schema_view(
    list=extend_schema(description="Sessions, newest first, by cursor."),
)
class SessionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CursorPaged, TenantViewSet):
    """Charging sessions, whichever OCPP version reported them."""

    serializer_class = SessionSerializer
    filterset_class = SessionFilter
    # Only by id: start times come from the chargers, and a fleet starting on a schedule shares
    # them, which a cursor cannot step over. `since`/`until` select by time; `export` sorts by it.
    ordering_fields = ["id"]

    def get_queryset(self):
        return with_integrity(ChargingSession.objects.select_related("charger"))

    @extend_schema(
        parameters=[OpenApiParameter("format", str, enum=["csv"], required=False)],
        responses={(200, "text/csv"): OpenApiTypes.STR},
        examples=ex.download("Sessions as CSV", ex.SESSIONS_CSV, "text/csv"),
    )
    @action(detail=False, methods=["get"], renderer_classes=[JSONRenderer, CsvRenderer])
    def export(self, request):
        """The filtered sessions as CSV (the same filters as the list), oldest first, with
        times in the tenant's time zone: the dashboard's download, column for column."""
        return sessions_csv(
            self.filter_queryset(self.get_queryset()),
            tz=zoneinfo.ZoneInfo(self.tenant.timezone),
            tenant=self.tenant,
            filename=export_filename("sessions", self.tenant),
        )
