"""Alerts in the REST API: list them, read one, acknowledge it (who, when, a note), export
them as CSV."""

import zoneinfo

from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from chargers.alerts.exports import alerts_csv
from chargers.alerts.models import Alert, AlertKind, Severity
from chargers.alerts.services import alert_acknowledge
from cpms.api import examples as ex
from cpms.api.base import CsvRenderer, CursorPaged, TenantViewSet
from cpms.api.texts import text_field
from cpms.exports import export_filename
from cpms.models import Role


@extend_schema_serializer(examples=[ex.returns("An open alert", ex.ALERT)])
class AlertSerializer(serializers.ModelSerializer):
    charger_identity = serializers.CharField(
        source="charger.identity", read_only=True, allow_null=True, default=None
    )
    acknowledged_by = serializers.EmailField(
        source="acknowledged_by.email", read_only=True, allow_null=True, default=None
    )
    is_open = serializers.BooleanField(read_only=True)
    title_text = text_field()
    detail_text = text_field()

    class Meta:
        model = Alert
        fields = [
            "id",
            "kind",
            "severity",
            "title",
            "detail",
            "title_text",
            "detail_text",
            "charger",
            "charger_identity",
            "evse_id",
            "connector_id",
            "session",
            "opened_at",
            "acknowledged_at",
            "acknowledged_by",
            "acknowledgement_note",
            "resolved_at",
            "is_open",
        ]
        read_only_fields = fields


class AcknowledgeSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class AlertFilter(filters.FilterSet):
    open = filters.BooleanFilter(
        field_name="resolved_at",
        lookup_expr="isnull",
        label="Only open (true) or only resolved (false) alerts.",
    )
    kind = filters.ChoiceFilter(choices=AlertKind.choices)
    severity = filters.ChoiceFilter(choices=Severity.choices)
    # A plain id, as elsewhere in the API: a model choice would validate against a queryset
    # built outside any tenant scope.
    charger = filters.NumberFilter(field_name="charger_id")

    class Meta:
        model = Alert
        fields = ["open", "kind", "severity", "charger"]


class AlertViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CursorPaged, TenantViewSet):
    """Alerts the rules opened; they resolve themselves when their condition clears."""

    serializer_class = AlertSerializer
    # `opened_at` is stamped by this server per alert: ties are rare and broken by id.
    ordering_fields = ["id", "opened_at"]
    filterset_class = AlertFilter
    action_roles = {"acknowledge": Role.OPERATOR}

    def get_queryset(self):
        return Alert.objects.select_related("charger", "acknowledged_by")

    @extend_schema(
        parameters=[OpenApiParameter("format", str, enum=["csv"], required=False)],
        responses={(200, "text/csv"): OpenApiTypes.STR},
        examples=ex.download("Alerts as CSV", ex.ALERTS_CSV, "text/csv"),
    )
    @action(detail=False, methods=["get"], renderer_classes=[JSONRenderer, CsvRenderer])
    def export(self, request):
        """The filtered alerts as CSV (the same filters as the list), oldest first, with who
        acknowledged them; times in the tenant's time zone."""
        return alerts_csv(
            self.filter_queryset(self.get_queryset()),
            tz=zoneinfo.ZoneInfo(self.tenant.timezone),
            tenant=self.tenant,
            filename=export_filename("alerts", self.tenant),
        )

    @extend_schema(
        request=AcknowledgeSerializer,
        responses={200: AlertSerializer},
        examples=ex.exchange(
            "With a note",
            request={"note": "Technician on the way"},
            response=ex.ACKNOWLEDGED_ALERT,
        ),
    )
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        """Say who saw the alert and what is being done; once per alert."""
        alert = self.get_object()
        body = AcknowledgeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            alert_acknowledge(alert=alert, user=request.auth.user, note=body.validated_data["note"])
        except ValueError as error:
            raise ValidationError({"non_field_errors": [str(error)]}) from error
        return Response(AlertSerializer(alert).data)
