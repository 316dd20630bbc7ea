"""Charging sessions in the API, whichever OCPP version reported them, and their CSV export."""

from __future__ import annotations

import zoneinfo

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

from chargers.exports import sessions_csv
from chargers.models import ChargingSession
from cpms.api import examples as ex
from cpms.api.base import CsvRenderer, CursorPaged, TenantViewSet, time_range
from cpms.exports import export_filename


@extend_schema_serializer(examples=[ex.returns("A session", ex.SESSION)])
class SessionSerializer(serializers.ModelSerializer):
    charger_identity = serializers.CharField(source="charger.identity", read_only=True)

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
            "updated_at",
        ]


class SessionFilter(filters.FilterSet):
    site = filters.NumberFilter(field_name="site_id")
    charger = filters.NumberFilter(field_name="charger_id")
    id_token = filters.NumberFilter(field_name="id_token_id")
    id_tag = filters.CharFilter(field_name="id_tag", lookup_expr="iexact")
    started_after, started_before = time_range("started_at")

    class Meta:
        model = ChargingSession
        fields = ["site", "charger", "id_token", "id_tag", "state"]


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
        return ChargingSession.objects.select_related("charger")

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
