"""Commands to chargers in the API, and their audit log."""

from __future__ import annotations

import re
import time

from django.urls import reverse
from django.utils import timezone
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
from chargers.models import (
    Charger,
    Command,
    CommandStatus,
    OcppVersion,
)
from chargers.ocpp import builders
from chargers.ocpp.schemas import request_problem
from cpms.api import examples as ex
from cpms.api.base import (
    CursorPaged,
    DateTimeFilter,
    TenantViewSet,
)


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


# Version-neutral actions: the builder in chargers.ocpp.builders and the arguments it takes.
NEUTRAL_ACTIONS = {
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
}


OCPP_ACTION_NAME = re.compile(r"^[A-Z][A-Za-z0-9]{1,49}$")


# The longest a request thread waits for a command's outcome. Chargers answer in a second or
# two when they answer at all; a slower outcome is worth a poll, not a thread held for it.
MAX_SYNC_WAIT = 15.0


# Between looks at the command's row: quick at first, for the usual fast reply, then calmer.
FIRST_LOOK, CALMEST_LOOK = 0.05, 0.5


def await_outcome(command: Command, seconds: float) -> bool:
    """Reload `command` until it has an outcome or `seconds` pass; whether it has one.

    The consumer holding the charger's socket writes the outcome (the reply, or a timeout
    after the command's own `timeout`) into the row; reading the row by its key a couple of
    times a second is all the waiting costs.
    """
    deadline = time.monotonic() + seconds
    pause = FIRST_LOOK
    while True:
        command.refresh_from_db()
        if command.status not in commands.UNFINISHED:
            return True
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        time.sleep(min(pause, left))
        pause = min(pause * 2, CALMEST_LOOK)


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


class CommandRequestSerializer(serializers.Serializer):
    """Either a version-neutral `action` with its `arguments`, or a raw `ocpp_action` with its
    `payload` for the charger's OCPP version (validated against that version's schema)."""

    charger = serializers.PrimaryKeyRelatedField(queryset=Charger.objects.all())
    action = serializers.ChoiceField(choices=list(NEUTRAL_ACTIONS), required=False)
    arguments = serializers.DictField(required=False, default=dict)
    ocpp_action = serializers.CharField(required=False, max_length=50)
    payload = serializers.DictField(required=False, default=dict)
    wait = serializers.BooleanField(
        default=True,
        help_text="Wait a bounded moment for the outcome: at most `timeout` plus one second, "
        f"and never more than {MAX_SYNC_WAIT:g} s. With `false` the request does not wait. "
        "Either way the answer is 201 when the outcome is known as the response is sent (an "
        "offline charger is known at once) and 202 to poll while the command is pending.",
    )
    timeout = serializers.FloatField(
        default=30, min_value=1, max_value=60, help_text="Seconds the charger has to answer."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Built at import time, outside any scope: read the charger in the request's scope.
        self.fields["charger"].queryset = Charger.objects.all()

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


class CommandFilter(filters.FilterSet):
    charger = filters.NumberFilter(field_name="charger_id")
    since = DateTimeFilter(field_name="created_at", lookup_expr="gte")
    until = DateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Command
        fields = ["charger", "action", "status", "source"]


@extend_schema_view(
    list=extend_schema(description="The audit log: every command, who asked, the reply."),
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

    def get_object(self):
        """The command, given up on when nothing will ever finish it: requests answer 202
        and leave the waiting to the consumer, so a doorbell lost in the channel layer (or a
        process that died holding the socket) would otherwise leave a poller waiting forever.
        This is the timeout `send_command` records when it waits itself."""
        command = super().get_object()
        overdue = commands.deadline(command.created_at, command.timeout) < timezone.now()
        if command.status in commands.UNFINISHED and overdue:
            commands.finish(
                command_id=command.pk,
                status=CommandStatus.TIMEOUT,
                error="No answer from the charger's connection.",
            )
            command.refresh_from_db()
        return command

    @extend_schema(
        request=CommandRequestSerializer,
        responses={
            201: OpenApiResponse(
                CommandSerializer,
                description="The outcome is known as the response is sent: answered, "
                "call_error or timeout after a wait, or offline or refused at once (also with "
                "`wait: false`).",
            ),
            202: OpenApiResponse(
                CommandSerializer,
                description="Pending: sent with `wait: false`, or still running when the "
                "bounded wait ended. Poll the URL in `Location` until `status` is no longer "
                "queued or sent (a command nothing finished within about two minutes reads as "
                "timeout).",
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
                "A raw OCPP 1.6 call, not waiting",
                value={
                    "charger": 12,
                    "ocpp_action": "DataTransfer",
                    "payload": {"vendorId": "com.acme", "messageId": "ping"},
                    "wait": False,
                },
                request_only=True,
            ),
            *ex.exchange("Answered", response=ex.COMMAND, status=201),
            *ex.exchange("Still running: poll Location", response=ex.QUEUED_COMMAND, status=202),
        ],
    )
    def create(self, request, *args, **kwargs):
        """Send a command. The answer is 201 when its outcome is known as the response is
        sent, and 202 with the command's URL in `Location` to poll while it is pending.

        A charger that is offline, or a command the channel layer refused, is known at once:
        201, with or without `wait`. Otherwise `wait` (the default) waits a bounded moment,
        `timeout` + 1 s and never more than 15 s, for the reply or the timeout (201), and a
        command still running after that is 202; with `wait: false` it is 202 at once."""
        serializer = CommandRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        # Sent without waiting inside send_command, whose own wait allows for a queue in front
        # of the charger (twice the timeout and more); this request waits its own bound.
        command = send_command(
            data["charger"],
            data["request"].action,
            data["request"].payload,
            requested_by=request.auth.user,
            source=request.auth.source,
            timeout=data["timeout"],
            wait=False,
        )
        finished = command.status not in commands.UNFINISHED
        if data["wait"] and not finished:
            finished = await_outcome(command, min(data["timeout"] + 1, MAX_SYNC_WAIT))
        body = CommandSerializer(command).data
        if finished:
            return Response(body, status=status.HTTP_201_CREATED)
        location = reverse("api:command-detail", kwargs={"pk": command.pk})
        return Response(
            body,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": location, "Retry-After": "1"},
        )
