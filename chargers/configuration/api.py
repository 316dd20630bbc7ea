"""Configuration templates, each charger's desired settings and drift, and apply runs in the
REST API. Roles come from `chargers.configuration.access`."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django_filters import rest_framework as filters
from drf_spectacular.utils import (
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from chargers.configuration import access, selectors
from chargers.configuration import examples as ex
from chargers.configuration.desired import ENTRY_FIELDS
from chargers.configuration.models import (
    VALUE_LENGTH,
    ApplyResult,
    ApplyRun,
    ConfigTemplate,
    Drift,
    TemplateEntry,
)
from chargers.configuration.services import apply as apply_services
from chargers.configuration.services import templates as template_services
from chargers.models import Charger
from cpms.api.base import TenantPrimaryKeyRelatedField, TenantViewSet, validation_error
from cpms.api.texts import text_field
from cpms.models import Site

# Seconds a client is asked to wait before its first poll of a run.
RETRY_AFTER = 2


class StrictString(serializers.CharField):
    """A value as a string: a number or a boolean is refused, not turned into one (a template
    states exactly what the charger is sent)."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            raise ValidationError("Give the value as a string.")
        return super().to_internal_value(data)


# --- Apply runs --------------------------------------------------------------------------------


class ResultSerializer(serializers.ModelSerializer):
    charger_identity = serializers.CharField(source="charger.identity", read_only=True)
    items = serializers.ListField(child=serializers.DictField(child=serializers.CharField()))
    detail_text = text_field()

    class Meta:
        model = ApplyResult
        fields = [
            "charger",
            "charger_identity",
            "state",
            "items",
            "detail",
            "detail_text",
            "finished_at",
        ]
        read_only_fields = fields


@extend_schema_serializer(examples=[ex.returns("A run with a restart to come", ex.RUN, 200)])
class RunSerializer(serializers.ModelSerializer):
    template_name = serializers.CharField(source="template.name", read_only=True)
    counts = serializers.SerializerMethodField()
    results = ResultSerializer(many=True, read_only=True)

    class Meta:
        model = ApplyRun
        fields = [
            "id",
            "template",
            "template_name",
            "state",
            "counts",
            "results",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.DictField(child=serializers.IntegerField()))
    def get_counts(self, run: ApplyRun) -> dict[str, int]:
        return dict(Counter(result.state for result in run.results.all()))


def _runs():
    results = Prefetch("results", queryset=ApplyResult.objects.select_related("charger"))
    return ApplyRun.objects.select_related("template").prefetch_related(results)


# --- Templates ---------------------------------------------------------------------------------


class TemplateEntrySerializer(serializers.ModelSerializer):
    setting = serializers.CharField(read_only=True)
    value = StrictString(max_length=VALUE_LENGTH, allow_blank=True, trim_whitespace=False)

    class Meta:
        model = TemplateEntry
        fields = ["setting", *ENTRY_FIELDS, "value"]
        extra_kwargs = {
            "evse_id": {"max_value": 1000},
            "connector_id": {"max_value": 1000},
        }


@extend_schema_serializer(examples=[ex.returns("A template for one model", ex.TEMPLATE)])
class TemplateSerializer(serializers.ModelSerializer):
    site = TenantPrimaryKeyRelatedField(
        queryset=Site.objects.all(), allow_null=True, required=False
    )
    entries = TemplateEntrySerializer(many=True)
    applies_to = serializers.CharField(read_only=True)
    rank = serializers.IntegerField(read_only=True)

    class Meta:
        model = ConfigTemplate
        fields = [
            "id",
            "name",
            "protocol",
            "vendor",
            "model",
            "site",
            "applies_to",
            "rank",
            "entries",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        # The name's uniqueness is checked by the service, in the scope.
        validators: list = []


class ApplyRequestSerializer(serializers.Serializer):
    chargers = TenantPrimaryKeyRelatedField(
        queryset=Charger.objects.all(),
        many=True,
        required=False,
        help_text="The chargers to apply it to; none: every charger the template matches.",
    )


def _entries(data: dict[str, Any]) -> dict[str, Any]:
    if "entries" in data:
        data["entries"] = [dict(entry) for entry in data["entries"]]
    return data


@extend_schema_view(
    create=extend_schema(
        examples=[
            *ex.exchange(
                "Keys for one model", request=ex.TEMPLATE_REQUEST, response=ex.TEMPLATE, status=201
            ),
            *ex.exchange("Variables for a site", request=ex.V201_TEMPLATE_REQUEST),
        ]
    ),
    update=extend_schema(
        examples=ex.exchange("Replaced", request=ex.TEMPLATE_REQUEST, response=ex.TEMPLATE)
    ),
    partial_update=extend_schema(
        examples=ex.exchange(
            "Entries replaced",
            request=ex.pick(ex.TEMPLATE_REQUEST, "entries"),
            response=ex.TEMPLATE,
        )
    ),
)
class TemplateViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    TenantViewSet,
):
    """The desired configuration per vendor and/or model, or per site: 1.6 keys or 2.0.1
    variables with their values. Where several templates match a charger, the most specific
    wins per setting (site over model over vendor; a template naming none is the fleet's
    default); between equals, the older one. Admins manage them; operators apply them."""

    serializer_class = TemplateSerializer
    read_role = access.READ
    write_role = access.MANAGE_TEMPLATES
    action_roles = {"apply": access.APPLY}
    filter_backends = [filters.DjangoFilterBackend]
    filterset_fields = ["protocol", "vendor", "model", "site"]

    def get_queryset(self):
        return ConfigTemplate.objects.select_related("site").prefetch_related("entries")

    def perform_create(self, serializer):
        try:
            serializer.instance = template_services.template_create(
                **_entries(dict(serializer.validated_data))
            )
        except DjangoValidationError as error:
            raise validation_error(error) from error

    def perform_update(self, serializer):
        try:
            serializer.instance = template_services.template_update(
                template=serializer.instance, **_entries(dict(serializer.validated_data))
            )
        except DjangoValidationError as error:
            raise validation_error(error) from error

    def perform_destroy(self, instance):
        template_services.template_delete(template=instance)

    @extend_schema(
        request=ApplyRequestSerializer,
        responses={202: RunSerializer},
        examples=ex.exchange(
            "Applied to one charger: poll Location",
            request=ex.APPLY_REQUEST,
            response=ex.NEW_RUN,
            status=202,
        ),
    )
    @action(detail=True, methods=["post"])
    def apply(self, request, pk=None):
        """Apply the template to the chargers named (none named: every charger it matches).
        The request never waits for a charger: the answer is 202 with the run's URL in
        `Location` to poll; each charger's result fills in as it answers."""
        template = self.get_object()
        body = ApplyRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        chargers = body.validated_data.get("chargers") or None
        try:
            run = apply_services.apply_run_start(
                template=template, chargers=chargers, requested_by=request.auth.user
            )
        except DjangoValidationError as error:
            raise validation_error(error) from error
        location = reverse("api:config-apply-run-detail", kwargs={"pk": run.pk})
        return Response(
            RunSerializer(_runs().get(pk=run.pk)).data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": location, "Retry-After": str(RETRY_AFTER)},
        )


class RunFilter(filters.FilterSet):
    template = filters.NumberFilter(field_name="template_id")

    class Meta:
        model = ApplyRun
        fields = ["template", "state"]


class RunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Each application of a template: per charger its state (accepted, reboot_required,
    rejected, not_supported, offline, timed_out, failed) and per setting what it said."""

    serializer_class = RunSerializer
    read_role = access.READ
    filterset_class = RunFilter

    def get_queryset(self):
        return _runs()


# --- Drift -------------------------------------------------------------------------------------


@extend_schema_serializer(examples=[ex.returns("A value that differs", ex.DRIFT, 200)])
class DriftSerializer(serializers.ModelSerializer):
    charger_identity = serializers.CharField(source="charger.identity", read_only=True)
    template_name = serializers.CharField(source="template.name", read_only=True)
    missing = serializers.BooleanField(read_only=True)

    class Meta:
        model = Drift
        fields = [
            "id",
            "charger",
            "charger_identity",
            "setting",
            "desired",
            "actual",
            "missing",
            "reboot_required",
            "template",
            "template_name",
            "since",
        ]
        read_only_fields = fields


class DriftFilter(filters.FilterSet):
    charger = filters.NumberFilter(field_name="charger_id")
    template = filters.NumberFilter(field_name="template_id")

    class Meta:
        model = Drift
        fields = ["charger", "template", "reboot_required"]


class DriftViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Every setting of every charger that differs from its desired value, is missing, or
    waits for a restart; filter by charger or template."""

    serializer_class = DriftSerializer
    read_role = access.READ
    filterset_class = DriftFilter

    def get_queryset(self):
        return Drift.objects.select_related("charger", "template").order_by("charger_id", "setting")


class SettingSerializer(serializers.Serializer):
    setting = serializers.CharField()
    desired = serializers.CharField()
    actual = serializers.CharField(allow_null=True)
    template = serializers.IntegerField()
    template_name = serializers.CharField()
    drift = serializers.BooleanField()
    missing = serializers.BooleanField()
    reboot_required = serializers.BooleanField()
    since = serializers.DateTimeField(allow_null=True)


@extend_schema_serializer(
    examples=[ex.returns("A charger's settings", ex.CHARGER_CONFIGURATION, 200)]
)
class ChargerConfigurationSerializer(serializers.Serializer):
    charger = serializers.IntegerField()
    charger_identity = serializers.CharField()
    protocol = serializers.CharField(allow_null=True)
    read = serializers.BooleanField(help_text="Whether anything was read from the charger yet.")
    drift_count = serializers.IntegerField()
    settings = SettingSerializer(many=True)


class ChargerConfigurationViewSet(TenantViewSet):
    """A charger's effective desired settings, each with the template it comes from, the
    value the charger holds and whether it drifts."""

    serializer_class = ChargerConfigurationSerializer
    read_role = access.READ
    pagination_class = None

    def get_queryset(self):
        return Charger.objects.all()

    def retrieve(self, request, pk=None):
        charger = get_object_or_404(Charger.objects.all(), pk=pk)
        rows, read = selectors.charger_configuration(charger)
        body = {
            "charger": charger.pk,
            "charger_identity": charger.identity,
            "protocol": selectors.protocol_of(charger),
            "read": read,
            "drift_count": sum(row.drift for row in rows),
            "settings": [row.__dict__ for row in rows],
        }
        return Response(ChargerConfigurationSerializer(body).data)
