"""Id tokens in the API: RFID cards, app accounts and key codes, one by one or in bulk."""

from __future__ import annotations

from django.db import transaction
from drf_spectacular.utils import (
    extend_schema,
    extend_schema_serializer,
    extend_schema_view,
)
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from chargers.models import (
    IdToken,
)
from cpms.api import examples as ex
from cpms.api.base import (
    TenantModelSerializer,
)
from cpms.api.resources import CrudViewSet


@extend_schema_serializer(examples=[ex.returns("A token", ex.ID_TOKEN)])
class IdTokenSerializer(TenantModelSerializer):
    unique_in_tenant = ("uid",)

    class Meta:
        model = IdToken
        fields = ["id", "uid", "type", "label", "group", "blocked", "expires_at", "created_at"]

    def validate_uid(self, value: str) -> str:
        value = value.strip()
        if not value or not value.isprintable() or " " in value:
            raise serializers.ValidationError("A token is printable characters without spaces.")
        return value

    def validate_group(self, value):
        if value is not None and self.instance is not None and value.pk == self.instance.pk:
            raise serializers.ValidationError("A token cannot be its own group.")
        return value


class BulkTokenSerializer(IdTokenSerializer):
    # In a bulk upsert an existing uid is an update, not a clash.
    unique_in_tenant = ()


class BulkIdTokenSerializer(serializers.Serializer):
    tokens = BulkTokenSerializer(many=True, help_text="Up to 1,000 tokens, matched by uid.")

    def validate_tokens(self, value):
        if len(value) > 1000:
            raise serializers.ValidationError("Send at most 1,000 tokens at a time.")
        uids = [token["uid"].upper() for token in value]
        if len(set(uids)) != len(uids):
            raise serializers.ValidationError("Each uid may appear once.")
        return value


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
    filterset_fields = ["type", "blocked", "group"]
    ordering_fields = ["uid", "created_at"]
    ordering = ["uid"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return IdToken.objects.all()

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
        created = updated = 0
        with transaction.atomic():
            for data in serializer.validated_data["tokens"]:
                token = IdToken.objects.filter(uid__iexact=data["uid"]).first()
                if token is None:
                    IdToken.objects.create(**data)
                    created += 1
                else:
                    # Matched case-insensitively; the stored spelling of the uid stays.
                    for field, value in data.items():
                        if field != "uid":
                            setattr(token, field, value)
                    token.save()
                    updated += 1
        return Response({"created": created, "updated": updated})
