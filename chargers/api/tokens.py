"""Id tokens in the API: RFID cards, app accounts and key codes, one by one or in bulk."""

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
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from chargers.access import MANAGE_TOKENS
from chargers.exports import id_tokens_csv
from chargers.models import IdToken, IdTokenStatus
from chargers.selectors.tokens import with_status
from chargers.services import tokens as token_services
from cpms.api import examples as ex
from cpms.api.base import (
    CrudViewSet,
    CsvRenderer,
    TenantModelSerializer,
)
from cpms.exports import export_filename


@extend_schema_serializer(examples=[ex.returns("A token", ex.ID_TOKEN)])
class IdTokenSerializer(TenantModelSerializer):
    class Meta:
        model = IdToken
        fields = ["id", "uid", "type", "label", "group", "blocked", "expires_at", "created_at"]


class BulkIdTokenSerializer(serializers.Serializer):
    tokens = IdTokenSerializer(many=True, help_text="Up to 1,000 tokens, matched by uid.")

    def validate_tokens(self, value):
        if len(value) > 1000:
            raise serializers.ValidationError("Send at most 1,000 tokens at a time.")
        uids = [token["uid"].upper() for token in value]
        if len(set(uids)) != len(uids):
            raise serializers.ValidationError("Each uid may appear once.")
        return value


class IdTokenFilter(filters.FilterSet):
    # A plain id, as elsewhere in the API: a model choice would validate against a queryset
    # built outside any tenant scope.
    group = filters.NumberFilter(field_name="group_id")
    # Whether a charger would accept the token now, as the dashboard's list filters it.
    status = filters.ChoiceFilter(choices=IdTokenStatus.choices, method="by_status")

    class Meta:
        model = IdToken
        fields = ["type", "blocked", "group", "status"]

    def by_status(self, tokens, name, value):
        return with_status(tokens, value)


@extend_schema_serializer(
    examples=[ex.returns("One new, one updated", {"created": 1, "updated": 1})]
)
class BulkResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()


@extend_schema_view(
    create=extend_schema(
        examples=ex.exchange(
            "A new card",
            request={"uid": "04A1B2C3", "type": "ISO14443", "label": "Van 12"},
            response=ex.ID_TOKEN,
            status=201,
        )
    ),
    partial_update=extend_schema(
        examples=ex.exchange(
            "Block a lost card",
            request={"blocked": True},
            response={**ex.ID_TOKEN, "blocked": True},
        )
    ),
)
class IdTokenViewSet(CrudViewSet):
    """RFID cards, app accounts and key codes accepted for charging. Operators write."""

    serializer_class = IdTokenSerializer
    write_role = MANAGE_TOKENS
    filterset_class = IdTokenFilter
    ordering_fields = ["uid", "created_at"]
    ordering = ["uid"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return IdToken.objects.all()

    def create_row(self, **data):
        return token_services.id_token_create(**data)

    def update_row(self, instance, **data):
        return token_services.id_token_update(token=instance, **data)

    def delete_row(self, instance):
        token_services.id_token_delete(token=instance)

    @extend_schema(
        request=BulkIdTokenSerializer,
        responses={200: BulkResultSerializer},
        examples=ex.exchange(
            "Two cards",
            request={
                "tokens": [
                    {"uid": "04A1B2C3", "label": "Van 12"},
                    {"uid": "04D4E5F6", "label": "Van 13", "blocked": True},
                ]
            },
            response={"created": 1, "updated": 1},
        ),
    )
    @action(detail=False, methods=["post"], url_path="bulk-upsert")
    def bulk_upsert(self, request):
        """Create or update many tokens by uid (case-insensitive), all or nothing."""
        serializer = BulkIdTokenSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        result = token_services.id_tokens_upsert(rows=serializer.validated_data["tokens"])
        return Response({"created": result.created, "updated": result.updated})

    @extend_schema(
        parameters=[OpenApiParameter("format", str, enum=["csv"], required=False)],
        responses={(200, "text/csv"): OpenApiTypes.STR},
        examples=ex.download("Id tokens as CSV", ex.ID_TOKENS_CSV, "text/csv"),
    )
    @action(detail=False, methods=["get"], renderer_classes=[JSONRenderer, CsvRenderer])
    def export(self, request):
        """The filtered tokens as CSV (the same filters as the list), by uid: the columns the
        dashboard's token import reads come first, in its order, so an export is an import file.
        Times in the tenant's time zone."""
        return id_tokens_csv(
            self.filter_queryset(self.get_queryset()).select_related("group"),
            tz=zoneinfo.ZoneInfo(self.tenant.timezone),
            tenant=self.tenant,
            filename=export_filename("id-tokens", self.tenant),
        )
