"""Commands to chargers in the API, and their audit log.

A request never waits for a charger: a command is recorded and sent, and its outcome, unless
known at once, is polled at the command's URL. Reads never write: a command nothing finished
is given up on by the stale sweep
(`chargers.services.commands.commands_time_out_stale`), not by a reader.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import cast

from django.urls import reverse
from django_filters import rest_framework as filters
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from chargers import commands
from chargers.commands import send_command
from chargers.models import Charger, Command, OcppVersion
from chargers.ocpp import builders
from chargers.ocpp.schemas import request_problem
from cpms.api import examples as ex
from cpms.api.base import CursorPaged, TenantViewSet, time_range


class RemoteStartArgs(serializers.Serializer):
    id_tag = serializers.CharField(max_length=36)
    evse_id = serializers.IntegerField(min_value=1, required=False)


class RemoteStopArgs(serializers.Serializer):
    transaction_id = serializers.CharField(max_length=36)


class ResetArgs(serializers.Serializer):
    hard = serializers.BooleanField(default=False)


class UnlockArgs(serializers.Serializer):
    evse_id = serializers.IntegerField(min_value=1)
    connector_id = serializers.IntegerField(min_value=1, default=1)


class AvailabilityArgs(serializers.Serializer):
    operative = serializers.BooleanField()
    evse_id = serializers.IntegerField(min_value=0, default=0)


class TriggerArgs(serializers.Serializer):
    message = serializers.ChoiceField(choices=list(builders.TRIGGERABLE))
    evse_id = serializers.IntegerField(min_value=1, required=False)


class NoArgs(serializers.Serializer):
    pass


class DiagnosticsArgs(serializers.Serializer):
    location = serializers.URLField(max_length=512)


class GetConfigurationArgs(serializers.Serializer):
    keys = serializers.ListField(child=serializers.CharField(max_length=100), required=False)


class ChangeConfigurationArgs(serializers.Serializer):
    key = serializers.CharField(max_length=100)
    value = serializers.CharField(max_length=500, allow_blank=True)


class CompositeScheduleArgs(serializers.Serializer):
    evse_id = serializers.IntegerField(min_value=0, default=0, help_text="0: the whole charger.")
    duration_s = serializers.IntegerField(min_value=1, max_value=7 * 24 * 3600, default=3600)
    unit = serializers.ChoiceField(
        choices=builders.RATE_UNITS, required=False, help_text="Empty: the charger's choice."
    )


class ChargingProfilesArgs(serializers.Serializer):
    evse_id = serializers.IntegerField(
        min_value=0, required=False, help_text="Empty: every EVSE; 0: the charger's own."
    )


# Version-neutral actions: the builder in chargers.ocpp.builders and the arguments it takes.
NEUTRAL_ACTIONS: dict[str, tuple[Callable[..., builders.Request], type[serializers.Serializer]]] = {
    "remote_start": (builders.remote_start, RemoteStartArgs),
    "remote_stop": (builders.remote_stop, RemoteStopArgs),
    "reset": (builders.reset, ResetArgs),
    "unlock": (builders.unlock, UnlockArgs),
    "set_availability": (builders.set_availability, AvailabilityArgs),
    "trigger": (builders.trigger, TriggerArgs),
    "clear_cache": (builders.clear_cache, NoArgs),
    "get_diagnostics": (builders.get_diagnostics, DiagnosticsArgs),
    "get_configuration": (builders.get_configuration, GetConfigurationArgs),
    "change_configuration": (builders.change_configuration, ChangeConfigurationArgs),
    "get_composite_schedule": (builders.composite_schedule, CompositeScheduleArgs),
    "get_charging_profiles": (builders.charging_profiles, ChargingProfilesArgs),
}


OCPP_ACTION_NAME = re.compile(r"^[A-Z][A-Za-z0-9]{1,49}$")


# Seconds a client is asked to wait before its first poll: chargers that answer at all
# usually answer within a second or two.
RETRY_AFTER = 1
STALE_DESCRIPTION = (
    "A command that nothing finishes (its charger's connection was lost with it) keeps "
    "reading `queued` or `sent` until a periodic sweep records its `timeout`: at most "
    f"2 × `timeout` + {commands.pending_at_most(0).total_seconds():g} s after `created_at` "
    f"({commands.pending_at_most(30).total_seconds():g} s with the default 30 s timeout). "
    "Reading a command never changes it."
)


@extend_schema_serializer(examples=[ex.returns("A command", ex.COMMAND)])
class CommandSerializer(serializers.ModelSerializer):
    charger_identity = serializers.CharField(source="charger.identity", read_only=True)
    requested_by = serializers.EmailField(
        source="requested_by.email", read_only=True, default=None, allow_null=True
    )
    duration_ms = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = Command
        fields = [
            "id",
            "charger",
            "charger_identity",
            "action",
            "payload",
            "status",
            "response",
            "error",
            "requested_by",
            "source",
            "created_at",
            "sent_at",
            "completed_at",
            "duration_ms",
        ]


@extend_schema_serializer(deprecate_fields=["wait"])
class CommandRequestSerializer(serializers.Serializer):
    """Either a version-neutral `action` with its `arguments`, or a raw `ocpp_action` with its
    `payload` for the charger's OCPP version (validated against that version's schema)."""

    charger = serializers.PrimaryKeyRelatedField(queryset=Charger.objects.all())
    action = serializers.ChoiceField(choices=list(NEUTRAL_ACTIONS), required=False)
    arguments = serializers.DictField(required=False, default=dict)
    ocpp_action = serializers.CharField(required=False, max_length=50)
    payload = serializers.DictField(required=False, default=dict)
    wait = serializers.BooleanField(
        required=False,
        help_text="Deprecated and ignored: a request no longer waits for the charger. It is "
        "accepted so that older clients keep working; they get 202 and poll, as they did when "
        "a wait ran out.",
    )
    timeout = serializers.FloatField(
        default=30, min_value=1, max_value=60, help_text="Seconds the charger has to answer."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Built at import time, outside any scope: read the charger in the request's scope.
        field = cast(serializers.PrimaryKeyRelatedField, self.fields["charger"])
        field.queryset = Charger.objects.all()

    def validate(self, attrs):
        charger = attrs["charger"]
        if bool(attrs.get("action")) == bool(attrs.get("ocpp_action")):
            raise ValidationError({"action": ["Send either `action` or `ocpp_action`."]})
        if attrs.get("action"):
            build, args_serializer = NEUTRAL_ACTIONS[attrs["action"]]
            args = args_serializer(data=attrs.get("arguments") or {})
            if not args.is_valid():
                raise ValidationError({"arguments": args.errors})
            try:
                attrs["request"] = build(charger, **args.validated_data)
            except builders.ActionError as error:
                raise ValidationError({"arguments": [str(error)]}) from None
            return attrs
        name, payload = attrs["ocpp_action"], attrs.get("payload") or {}
        version = charger.ocpp_version
        if not version:
            raise ValidationError(
                {"ocpp_action": ["The charger has not connected yet: its OCPP version is unknown."]}
            )
        if version not in (OcppVersion.V16, OcppVersion.V201):
            raise ValidationError({"ocpp_action": [f"OCPP {version} has no schemas here yet."]})
        if not OCPP_ACTION_NAME.match(name):
            raise ValidationError({"ocpp_action": ["Not an OCPP action name."]})
        problem = request_problem(version, name, payload)
        if problem is not None:
            raise ValidationError({problem[0]: [problem[1]]})
        attrs["request"] = builders.Request(name, payload)
        return attrs


class ActionsFilter(filters.BaseInFilter, filters.CharFilter):
    pass


class CommandFilter(filters.FilterSet):
    charger = filters.NumberFilter(field_name="charger_id")
    since, until = time_range("created_at")
    # Smart charging's profiles bury the rest of a charger's log: leave actions out by name.
    exclude_action = ActionsFilter(
        field_name="action",
        exclude=True,
        help_text="Leave these actions out, comma-separated (e.g. SetChargingProfile).",
    )

    class Meta:
        model = Command
        fields = ["charger", "action", "status", "source"]


@extend_schema_view(
    list=extend_schema(description="The audit log: every command, who asked, the reply."),
    retrieve=extend_schema(
        description="A command and its outcome, the URL to poll after a 202: `status` is "
        "`queued` or `sent` while the charger has not answered, then `answered`, "
        f"`call_error`, `timeout`, `offline` or `refused`. {STALE_DESCRIPTION}"
    ),
)
class CommandViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    CursorPaged,
    TenantViewSet,
):
    """Commands to chargers and their audit log. Operators send, everyone reads."""

    serializer_class = CommandSerializer
    # `created_at` is stamped by this server per command: ties are rare and broken by id.
    ordering_fields = ["id", "created_at"]
    filterset_class = CommandFilter

    def get_queryset(self):
        return Command.objects.select_related("charger", "requested_by")

    @extend_schema(
        request=CommandRequestSerializer,
        responses={
            201: OpenApiResponse(
                CommandSerializer,
                description="The outcome is known at once: the charger is `offline`, or the "
                "command was `refused` before it reached the charger's connection.",
            ),
            202: OpenApiResponse(
                CommandSerializer,
                description="Sent and pending (`queued` or `sent`). Poll the URL in "
                "`Location` (first after `Retry-After` seconds) until `status` is no longer "
                f"`queued` or `sent`. {STALE_DESCRIPTION}",
            ),
        },
        examples=[
            OpenApiExample(
                "Reset, version-neutral",
                value={"charger": 12, "action": "reset", "arguments": {"hard": False}},
                request_only=True,
            ),
            OpenApiExample(
                "Remote start",
                value={
                    "charger": 12,
                    "action": "remote_start",
                    "arguments": {"id_tag": "04A1B2C3", "evse_id": 1},
                },
                request_only=True,
            ),
            OpenApiExample(
                "A raw OCPP 1.6 call",
                value={
                    "charger": 12,
                    "ocpp_action": "DataTransfer",
                    "payload": {"vendorId": "com.acme", "messageId": "ping"},
                    "timeout": 10,
                },
                request_only=True,
            ),
            *ex.exchange("Sent: poll Location", response=ex.QUEUED_COMMAND, status=202),
            *ex.exchange("The charger is offline", response=ex.OFFLINE_COMMAND, status=201),
        ],
    )
    def create(self, request, *args, **kwargs):
        """Send a command. The request never waits for the charger: the answer is 202 with the
        command's URL in `Location` (and `Retry-After`) to poll while it is pending, and 201
        when its outcome is known at once (the charger is offline, or the command was refused
        before it reached the charger's connection). `wait` is accepted and ignored."""
        serializer = CommandRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        command = send_command(
            data["charger"],
            data["request"].action,
            data["request"].payload,
            requested_by=request.auth.user,
            source=request.auth.source,
            timeout=data["timeout"],
            wait=False,
        )
        body = CommandSerializer(command).data
        if command.status not in commands.UNFINISHED:
            return Response(body, status=status.HTTP_201_CREATED)
        location = reverse("api:command-detail", kwargs={"pk": command.pk})
        return Response(
            body,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": location, "Retry-After": str(RETRY_AFTER)},
        )
