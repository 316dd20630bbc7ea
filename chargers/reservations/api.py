"""Reservations in the REST API: list (filters), detail, create and cancel. Creating and
cancelling answer 202 with the reservation's URL to poll, as commands do: the charger's reply
moves `status` on. Roles come from `chargers.reservations.access`."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from django_filters import rest_framework as filters
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from chargers.models import Charger
from chargers.reservations import access, selectors, services
from chargers.reservations import examples as ex
from chargers.reservations.models import Reservation, ReservationStatus
from cpms.api.base import (
    CursorPaged,
    TenantPrimaryKeyRelatedField,
    TenantViewSet,
    time_range,
    validation_error,
)
from cpms.api.texts import text_field

# Seconds a client is asked to wait before its first poll (as for commands).
RETRY_AFTER = 1


@extend_schema_serializer(examples=[ex.returns("An accepted reservation", ex.RESERVATION)])
class ReservationSerializer(serializers.ModelSerializer):
    charger_identity = serializers.CharField(source="charger.identity", read_only=True)
    id_token = serializers.CharField(source="id_tag", read_only=True)
    detail_text = text_field()
    reservation_id = serializers.IntegerField(
        source="ocpp_id", read_only=True, help_text="The id the charger knows it by."
    )
    created_by = serializers.EmailField(
        source="created_by.email", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = Reservation
        fields = [
            "id",
            "charger",
            "charger_identity",
            "evse_id",
            "id_token",
            "group_id_tag",
            "expires_at",
            "reservation_id",
            "status",
            "charger_status",
            "detail",
            "detail_text",
            "created_by",
            "created_at",
            "sent_at",
            "command",
            "cancel_requested_at",
            "cancel_command",
            "session",
            "closed_at",
        ]
        read_only_fields = fields


class ReservationRequestSerializer(serializers.Serializer):
    charger = TenantPrimaryKeyRelatedField(queryset=Charger.objects.all())
    evse_id = serializers.IntegerField(
        min_value=1,
        required=False,
        allow_null=True,
        help_text="The connector (1.6) or EVSE (2.0.1) number; empty: any connector.",
    )
    id_token = serializers.CharField(
        max_length=36, help_text="The uid of one of the tenant's id tokens (not blocked)."
    )
    expires_at = serializers.DateTimeField(
        help_text="When the reservation ends: at least a minute ahead, at most "
        "`RESERVATION_MAX_HOURS` (default 24)."
    )


class ReservationFilter(filters.FilterSet):
    charger = filters.NumberFilter(field_name="charger_id")
    status = filters.ChoiceFilter(choices=ReservationStatus.choices)
    active = filters.BooleanFilter(
        method="filter_active", label="Holding its connector now (requested or accepted)."
    )
    since, until = time_range("created_at")

    class Meta:
        model = Reservation
        fields = ["charger", "status", "active"]

    def filter_active(self, queryset, name, value):
        if value is None:
            return queryset
        held = selectors.active(queryset)
        return held if value else queryset.exclude(pk__in=held.values("pk"))


def _pending(reservation: Reservation) -> Response:
    body = ReservationSerializer(selectors.reservations().get(pk=reservation.pk)).data
    location = reverse("api:reservation-detail", kwargs={"pk": reservation.pk})
    return Response(
        body,
        status=status.HTTP_202_ACCEPTED,
        headers={"Location": location, "Retry-After": str(RETRY_AFTER)},
    )


POLL = "Poll the URL in `Location` (first after `Retry-After` seconds) for the charger's answer."


@extend_schema_view(
    list=extend_schema(
        description="Reservations, newest first; `active=true` for those holding a connector."
    ),
    retrieve=extend_schema(
        description="A reservation: `requested` until the charger answers, then `accepted` "
        "or `rejected` (with `charger_status`: Occupied, Faulted, Unavailable, Rejected); an "
        "accepted one ends `cancelled`, `expired` or `used` (with its `session`)."
    ),
)
class ReservationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, CursorPaged, TenantViewSet
):
    """Reservations of a connector, or any connector, of a charger for an id token until a
    time (1.6 and 2.0.1 ReserveNow). Operators reserve and cancel; everyone reads."""

    serializer_class = ReservationSerializer
    read_role = access.READ
    write_role = access.MANAGE_RESERVATIONS
    filterset_class = ReservationFilter
    # `created_at` is stamped by this server per reservation; ties are broken by id.
    ordering_fields = ["id", "created_at"]

    def get_queryset(self):
        return selectors.reservations()

    @extend_schema(
        request=ReservationRequestSerializer,
        responses={
            202: OpenApiResponse(
                ReservationSerializer, description=f"Recorded as `requested` and sent. {POLL}"
            )
        },
        examples=ex.exchange(
            "Reserve connector 2 for a driver",
            request=ex.REQUEST,
            response=ex.REQUESTED,
            status=202,
        ),
    )
    def create(self, request, *args, **kwargs):
        """Reserve: the charger must be online, the token one of the tenant's and valid, the
        connector the charger's and free, the expiry ahead. The request never waits for the
        charger: 202 with the reservation's URL to poll until `status` is no longer
        `requested`."""
        serializer = ReservationRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            reservation = services.reservation_create(
                charger=data["charger"],
                evse_id=data.get("evse_id"),
                id_tag=data["id_token"],
                expires_at=data["expires_at"],
                created_by=request.auth.user,
            )
        except DjangoValidationError as error:
            raise validation_error(error) from error
        return _pending(reservation)

    @extend_schema(
        request=None,
        responses={
            202: OpenApiResponse(
                ReservationSerializer,
                description=f"CancelReservation sent; `status` becomes `cancelled`. {POLL}",
            )
        },
        examples=ex.exchange("Cancelling", response=ex.CANCELLING, status=202),
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel an accepted reservation at its charger (CancelReservation)."""
        reservation = self.get_object()
        try:
            services.reservation_cancel(reservation=reservation, cancelled_by=request.auth.user)
        except DjangoValidationError as error:
            raise validation_error(error) from error
        return _pending(reservation)
