"""Webhook endpoints and their deliveries, for tenant admins."""

from __future__ import annotations

from django.db import transaction
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_serializer, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from cpms import webhooks
from cpms.api import examples as ex
from cpms.api.base import CrudViewSet, CursorPaged, TenantViewSet
from cpms.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from cpms.services import webhooks as endpoints
from cpms.services import webhooks as webhook_services
from cpms.tenancy.access import MANAGE_WEBHOOKS


@extend_schema_serializer(examples=[ex.returns("An endpoint", ex.WEBHOOK_ENDPOINT)])
class WebhookEndpointSerializer(serializers.ModelSerializer):
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=webhooks.webhook_event_types()),
        allow_empty=False,
        help_text="The events to deliver to this endpoint.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "description", "event_types", "is_active", "created_at"]

    def validate_url(self, value: str) -> str:
        if not value.lower().startswith(("http://", "https://")):
            raise serializers.ValidationError("Use an http(s) URL.")
        problem = webhooks.private_address_problem(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value

    def validate_event_types(self, value: list[str]) -> list[str]:
        return sorted(set(value))


@extend_schema_serializer(
    examples=[ex.returns("With its new secret", ex.WEBHOOK_ENDPOINT_WITH_SECRET)]
)
class EndpointWithSecretSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(
        read_only=True, help_text="Verifies the CPMS-Signature header. Shown once: store it now."
    )

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]


@extend_schema_view(
    create=extend_schema(
        description="Register a receiver for the event types it wants; the response shows "
        "the signing secret once.\n\n" + webhooks.event_reference(),
        responses={201: EndpointWithSecretSerializer},
        examples=ex.exchange(
            "Sessions to a billing system",
            request={
                "url": "https://billing.example.com/hooks/cpms",
                "description": "Billing",
                "event_types": ["session.started", "session.stopped"],
            },
            response=ex.WEBHOOK_ENDPOINT_WITH_SECRET,
            status=201,
        ),
    ),
    partial_update=extend_schema(
        examples=ex.exchange(
            "Pause deliveries",
            request={"is_active": False},
            response={**ex.WEBHOOK_ENDPOINT, "is_active": False},
        )
    ),
)
class WebhookEndpointViewSet(CrudViewSet):
    """Where events are delivered. Admins only; the signing secret is shown when the endpoint
    is created and when it is rotated."""

    serializer_class = WebhookEndpointSerializer
    read_role = write_role = MANAGE_WEBHOOKS
    filterset_fields = ["is_active"]
    ordering_fields = ["created_at"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return WebhookEndpoint.objects.all()

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint = endpoints.webhook_endpoint_create(**serializer.validated_data)
        return Response(EndpointWithSecretSerializer(endpoint).data, status=status.HTTP_201_CREATED)

    def update_row(self, instance, **data):
        return endpoints.webhook_endpoint_update(endpoint=instance, **data)

    def delete_row(self, instance):
        endpoints.webhook_endpoint_delete(endpoint=instance)

    @extend_schema(request=None, responses={200: EndpointWithSecretSerializer})
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        """A new signing secret, effective for the next delivery."""
        endpoint = endpoints.webhook_endpoint_rotate_secret(endpoint=self.get_object())
        return Response(EndpointWithSecretSerializer(endpoint).data)


class WebhookAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["at", "status_code", "error", "response_body", "duration_ms"]


@extend_schema_serializer(
    examples=[ex.returns("Delivered on the second attempt", ex.WEBHOOK_DELIVERY)]
)
class WebhookDeliverySerializer(serializers.ModelSerializer):
    attempts = WebhookAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "endpoint",
            "event_id",
            "event_type",
            "payload",
            "status",
            "attempt_count",
            "next_attempt_at",
            "replay_of",
            "created_at",
            "delivered_at",
            "attempts",
        ]


class DeliveryFilter(filters.FilterSet):
    endpoint = filters.NumberFilter(field_name="endpoint_id")

    class Meta:
        model = WebhookDelivery
        fields = ["endpoint", "status", "event_type"]


class WebhookDeliveryViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, CursorPaged, TenantViewSet
):
    """Every delivery with its attempts, newest first; a delivery can be replayed."""

    serializer_class = WebhookDeliverySerializer
    read_role = write_role = MANAGE_WEBHOOKS
    # `created_at` is stamped by this server per delivery: ties are rare and broken by id.
    ordering_fields = ["id", "created_at"]
    filterset_class = DeliveryFilter

    def get_queryset(self):
        return WebhookDelivery.objects.prefetch_related("attempts")

    @extend_schema(
        request=None,
        responses={202: WebhookDeliverySerializer},
        examples=ex.exchange("A new delivery", response=ex.REPLAYED_DELIVERY, status=202),
    )
    @action(detail=True, methods=["post"])
    def replay(self, request, pk=None):
        """Send the event again, as a new delivery with the same event id."""
        with transaction.atomic():
            copy = webhook_services.webhook_delivery_replay(delivery=self.get_object())
        return Response(WebhookDeliverySerializer(copy).data, status=status.HTTP_202_ACCEPTED)
