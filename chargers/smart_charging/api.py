"""Load management in the REST API: a site's grid connection and circuits (the tree), how each
charger is wired, lower limits at certain hours, limit signals from integrators, sessions'
priorities and needs, and the current plan of a site with a reason per connector."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext
from drf_spectacular.utils import (
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
    extend_schema_view,
)
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from chargers.smart_charging import access, selectors, services
from chargers.smart_charging.models import (
    ChargerElectrical,
    Circuit,
    GridLimitWindow,
    GroupPriority,
    LimitSignal,
    NeedsSource,
    ProfilesReport,
    SessionNeeds,
    SiteElectrical,
)
from cpms.api import examples as ex
from cpms.api.base import CrudViewSet, TenantModelSerializer, TenantViewSet
from cpms.api.texts import text_field
from cpms.models import Site

WRITE_METHODS = ["get", "post", "patch", "delete", "head", "options"]

GRID_CONNECTION = {
    "id": 1,
    "site": 1,
    "managed": True,
    "grid_limit_a": "63.0",
    "static_limit_a": "63.0",
    "sharing": "equal",
    "min_current_a": "6.0",
    "updated_at": "2026-12-06T08:00:00Z",
}
CIRCUIT = {
    "id": 3,
    "site": 1,
    "parent": None,
    "name": "Board B",
    "limit_a": "40.0",
    "phases": "L1L2L3",
    "created_at": "2026-12-06T08:00:00Z",
}
WIRING = {
    "id": 5,
    "charger": 12,
    "circuit": 3,
    "phases": "L1L2L3",
    "min_current_a": None,
    "max_current_a": "32.0",
    "connector_max_a": {"2": 16},
    "updated_at": "2026-12-06T08:00:00Z",
}
WINDOW = {
    "id": 2,
    "site": 1,
    "starts": "17:00",
    "ends": "20:00",
    "weekdays": [0, 1, 2, 3, 4],
    "limit_a": "32.0",
}
SIGNAL = {
    "id": 9,
    "site": 1,
    "limit_a": "25.0",
    "starts_at": "2026-12-06T16:00:00Z",
    "expires_at": "2026-12-06T18:00:00Z",
    "source": "DSO Nord",
    "created_at": "2026-12-06T15:58:00Z",
}
NEEDS = {
    "id": 4,
    "session": 812,
    "priority": 1,
    "priority_label": "fleet",
    "departure_at": "2026-12-06T17:30:00Z",
    "energy_needed_wh": 30000,
    "min_current_a": None,
    "max_current_a": "16.0",
    "source": "integrator",
    "updated_at": "2026-12-06T08:00:00Z",
}
GROUP_PRIORITY = {"id": 2, "group": 31, "priority": 5, "label": "fleet"}
LOAD_PLAN = {
    "site": 1,
    "computed_at": "2026-12-06T08:00:02Z",
    "trigger": "session.started",
    "grid_limit_a": 63.0,
    "grid_source": "grid connection",
    "sharing": "equal",
    "nodes": [
        {"id": "grid", "name": "grid connection", "limit_a": 63.0, "phases": ["L1", "L2", "L3"],
         "parent": None},
        {"id": "c3", "name": "Board B", "limit_a": 40.0, "phases": ["L1", "L2", "L3"],
         "parent": "grid"},
    ],
    "load": {"grid": {"L1": 40.0, "L2": 40.0, "L3": 40.0},
             "c3": {"L1": 40.0, "L2": 40.0, "L3": 40.0}},
    "connectors": [
        {
            "charger": 12,
            "charger_identity": "CP-12",
            "evse_id": 1,
            "session": 812,
            "limit_a": 20.0,
            "paused": False,
            "binding": "c3",
            "reason": "limited to 20 A: Board B at 40 A shared by 2 sessions; priority fleet",
            "reason_text": {
                "code": "load.shared",
                "params": {"limit": 20.0, "node": "Board B", "node_limit": 40.0, "shared": 2,
                           "priority": {"code": "load.priority", "params": {"priority": "fleet"}}},
            },
            "periods": [["2026-12-06T08:00:02+00:00", 20.0]],
            "draw_a": 19.6,
            "fallback_a": 20.0,
        }
    ],
}  # fmt: skip


def _crud_examples(name: str, value: dict, writable: list[str], change: dict) -> Any:
    changed = {**value, **change}
    return extend_schema_view(
        create=extend_schema(
            examples=ex.exchange(
                f"A new {name}", request=ex.pick(value, *writable), response=value, status=201
            )
        ),
        partial_update=extend_schema(
            examples=ex.exchange(f"Change a {name}", request=change, response=changed)
        ),
    )


# --- the grid connection -----------------------------------------------------------------------


@extend_schema_serializer(examples=[ex.returns("A grid connection", GRID_CONNECTION)])
class GridConnectionSerializer(TenantModelSerializer):
    static_limit_a = serializers.SerializerMethodField(
        help_text="Per phase: the limit given, or the one derived from the site's kW."
    )

    class Meta:
        model = SiteElectrical
        fields = [
            "id",
            "site",
            "managed",
            "grid_limit_a",
            "static_limit_a",
            "sharing",
            "min_current_a",
            "updated_at",
        ]
        # One per site: POST sets it, whether or not the site has one.
        extra_kwargs: dict[str, dict[str, Any]] = {"site": {"validators": []}}

    def get_static_limit_a(self, row: SiteElectrical) -> str | None:
        limit = row.static_limit_a()
        return None if limit is None else f"{limit:.1f}"


@_crud_examples(
    "grid connection",
    GRID_CONNECTION,
    ["site", "managed", "grid_limit_a", "sharing", "min_current_a"],
    {"grid_limit_a": "50.0"},
)
class GridConnectionViewSet(CrudViewSet):
    """Each load-managed site's grid connection: its limit per phase and how current is
    shared. POST sets a site's (creating or replacing it); DELETE stops managing the site."""

    serializer_class = GridConnectionSerializer
    write_role = access.MANAGE_LOAD_TREE
    http_method_names = WRITE_METHODS
    filterset_fields = ["site"]
    ordering = ["id"]

    def get_queryset(self):
        return SiteElectrical.objects.select_related("site")

    def create_row(self, *, site, **data):
        return services.site_electrical_set(site=site, **data)

    def update_row(self, instance, *, site=None, **data):
        return services.site_electrical_set(site=instance.site, **data)

    def delete_row(self, instance):
        services.site_electrical_delete(row=instance)


# --- circuits ----------------------------------------------------------------------------------


@extend_schema_serializer(examples=[ex.returns("A circuit", CIRCUIT)])
class CircuitSerializer(TenantModelSerializer):
    class Meta:
        model = Circuit
        fields = ["id", "site", "parent", "name", "limit_a", "phases", "created_at"]
        # The service checks names within the site (a 400 naming the field).
        validators: list = []


@_crud_examples(
    "circuit", CIRCUIT, ["site", "parent", "name", "limit_a", "phases"], {"limit_a": "35.0"}
)
class CircuitViewSet(CrudViewSet):
    """The tree below each grid connection: circuits with their limit per phase and their
    phases, each below the grid connection (no parent) or below another circuit."""

    serializer_class = CircuitSerializer
    write_role = access.MANAGE_LOAD_TREE
    http_method_names = WRITE_METHODS
    filterset_fields = ["site", "parent"]
    ordering = ["id"]

    def get_queryset(self):
        return Circuit.objects.all()

    def create_row(self, *, site, **data):
        return services.circuit_create(site=site, **data)

    def update_row(self, instance, **data):
        return services.circuit_update(circuit=instance, **data)

    def delete_row(self, instance):
        services.circuit_delete(circuit=instance)


# --- chargers' wiring --------------------------------------------------------------------------


@extend_schema_serializer(examples=[ex.returns("A charger's wiring", WIRING)])
class WiringSerializer(TenantModelSerializer):
    class Meta:
        model = ChargerElectrical
        fields = [
            "id",
            "charger",
            "circuit",
            "phases",
            "min_current_a",
            "max_current_a",
            "connector_max_a",
            "updated_at",
        ]
        extra_kwargs: dict[str, dict[str, Any]] = {"charger": {"validators": []}}


@_crud_examples(
    "charger's wiring",
    WIRING,
    ["charger", "circuit", "phases", "min_current_a", "max_current_a", "connector_max_a"],
    {"max_current_a": "16.0"},
)
class WiringViewSet(CrudViewSet):
    """How each charger is wired: its circuit, its phases (one: which), the current its
    connectors take. POST sets a charger's (creating or replacing it)."""

    serializer_class = WiringSerializer
    write_role = access.MANAGE_LOAD_TREE
    http_method_names = WRITE_METHODS
    filterset_fields = ["charger", "circuit"]
    ordering = ["id"]

    def get_queryset(self):
        return ChargerElectrical.objects.select_related("charger")

    def create_row(self, *, charger, **data):
        return services.charger_electrical_set(charger=charger, **data)

    def update_row(self, instance, *, charger=None, **data):
        return services.charger_electrical_set(charger=instance.charger, **data)

    def delete_row(self, instance):
        services.charger_electrical_delete(row=instance)


# --- limits over time --------------------------------------------------------------------------


@extend_schema_field(
    {"type": "string", "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9]$", "example": "17:00"}
)
class LocalTimeField(serializers.TimeField):
    """A time of day in the site's local time, HH:MM (a zone-less time: not RFC 3339's)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%H:%M", input_formats=["%H:%M", "%H:%M:%S"], **kwargs)


@extend_schema_serializer(examples=[ex.returns("A lower limit in the evening", WINDOW)])
class WindowSerializer(TenantModelSerializer):
    starts = LocalTimeField()
    ends = LocalTimeField(help_text="Before `starts`: the window runs past midnight.")
    weekdays = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=6),
        required=False,
        max_length=7,
        help_text="0 for Monday to 6; empty: every day.",
    )

    class Meta:
        model = GridLimitWindow
        fields = ["id", "site", "starts", "ends", "weekdays", "limit_a"]


@_crud_examples(
    "schedule window",
    WINDOW,
    ["site", "starts", "ends", "weekdays", "limit_a"],
    {"limit_a": "25.0"},
)
class WindowViewSet(CrudViewSet):
    """A lower grid limit at certain hours of the site's local time (past midnight when it
    ends before it starts)."""

    serializer_class = WindowSerializer
    write_role = access.MANAGE_LOAD_TREE
    http_method_names = WRITE_METHODS
    filterset_fields = ["site"]
    ordering = ["id"]

    def get_queryset(self):
        return GridLimitWindow.objects.all()

    def create_row(self, *, site, **data):
        return services.limit_window_create(site=site, **data)

    def update_row(self, instance, **data):
        return services.limit_window_update(window=instance, **data)

    def delete_row(self, instance):
        services.limit_window_delete(window=instance)


@extend_schema_serializer(examples=[ex.returns("A DSO's limit", SIGNAL)])
class SignalSerializer(TenantModelSerializer):
    starts_at = serializers.DateTimeField(required=False, help_text="Default: now.")

    class Meta:
        model = LimitSignal
        fields = ["id", "site", "limit_a", "starts_at", "expires_at", "source", "created_at"]


@extend_schema_view(
    create=extend_schema(
        examples=ex.exchange(
            "A DSO lowers the limit for two hours",
            request=ex.pick(SIGNAL, "site", "limit_a", "starts_at", "expires_at", "source"),
            response=SIGNAL,
            status=201,
        )
    )
)
class SignalViewSet(CrudViewSet):
    """Limits an integrator posts (a DSO, an energy manager): the grid connection's limit is
    the lowest of the static limit, the schedule and the signals in force; after a signal
    expires the others apply again. DELETE withdraws one."""

    serializer_class = SignalSerializer
    write_role = access.MANAGE_LOAD_TREE
    http_method_names = ["get", "post", "delete", "head", "options"]
    filterset_fields = ["site"]
    ordering = ["-id"]

    def get_queryset(self):
        return LimitSignal.objects.all()

    def create_row(self, **data):
        return services.limit_signal_post(**data)

    def delete_row(self, instance):
        services.limit_signal_withdraw(signal=instance)


# --- sessions ----------------------------------------------------------------------------------


@extend_schema_serializer(examples=[ex.returns("A fleet vehicle's needs", NEEDS)])
class NeedsSerializer(TenantModelSerializer):
    class Meta:
        model = SessionNeeds
        fields = [
            "id",
            "session",
            "priority",
            "priority_label",
            "departure_at",
            "energy_needed_wh",
            "min_current_a",
            "max_current_a",
            "source",
            "updated_at",
        ]
        extra_kwargs: dict[str, dict[str, Any]] = {"session": {"validators": []}}

    def validate_source(self, value: str) -> str:
        # Only what an EV states over OCPP is the EV's: an integrator's values would otherwise
        # be replaced by the EV's next statement and give up the session's priority.
        if value == NeedsSource.EV:
            raise serializers.ValidationError(
                gettext("Only an EV states its needs as the EV; use operator or integrator.")
            )
        return value


@_crud_examples(
    "session's needs",
    NEEDS,
    [
        "session",
        "priority",
        "priority_label",
        "departure_at",
        "energy_needed_wh",
        "max_current_a",
        "source",
    ],
    {"priority": 2},
)
class NeedsViewSet(CrudViewSet):
    """A session's priority (higher goes first when current is scarce) and, when known, its
    departure, the energy it needs by then and the EV's current range. POST sets a
    session's. An ISO 15118 EV states its own (`source` ev); values an operator or
    integrator set are never replaced by the EV's, which fill only the fields left empty. A
    priority set on an EV's row makes it `operator` (an EV's row takes its group's priority)."""

    serializer_class = NeedsSerializer
    write_role = access.SET_SESSION_NEEDS
    http_method_names = WRITE_METHODS
    filterset_fields = ["session"]
    ordering = ["-id"]

    def get_queryset(self):
        return SessionNeeds.objects.all()

    def create_row(self, *, session, **data):
        return services.session_needs_set(session=session, **data)

    def update_row(self, instance, *, session=None, **data):
        return services.session_needs_set(session=instance.session, **data)

    def delete_row(self, instance):
        services.session_needs_delete(row=instance)


@extend_schema_serializer(examples=[ex.returns("The fleet goes first", GROUP_PRIORITY)])
class GroupPrioritySerializer(TenantModelSerializer):
    class Meta:
        model = GroupPriority
        fields = ["id", "group", "priority", "label"]
        extra_kwargs: dict[str, dict[str, Any]] = {
            "group": {"validators": [], "help_text": "The id token of the group."}
        }


@_crud_examples("group priority", GROUP_PRIORITY, ["group", "priority", "label"], {"priority": 7})
class GroupPriorityViewSet(CrudViewSet):
    """The priority of every session of an id-token group (higher goes first when current is
    scarce), unless an operator or an integrator set the session's own. POST sets a group's."""

    serializer_class = GroupPrioritySerializer
    write_role = access.MANAGE_PRIORITIES
    http_method_names = WRITE_METHODS
    filterset_fields = ["group"]
    ordering = ["-priority", "id"]

    def get_queryset(self):
        return GroupPriority.objects.all()

    def create_row(self, *, group, **data):
        return services.group_priority_set(group=group, **data)

    def update_row(self, instance, *, group=None, **data):
        if group is not None and group != instance.group:
            raise ValidationError({"group": ["Set another group's priority with a POST."]})
        return services.group_priority_set(group=instance.group, **data)

    def delete_row(self, instance):
        services.group_priority_delete(row=instance)


# --- what chargers hold --------------------------------------------------------------------------

PROFILES_REPORT = {
    "id": 7,
    "charger": 12,
    "request_id": 180731,
    "command": 5521,
    "started_at": "2026-12-06T08:00:03Z",
    "updated_at": "2026-12-06T08:00:04Z",
    "complete": True,
    "parts": 2,
    "profiles": [
        {
            "evse_id": 1,
            "source": "CSO",
            "profile_id": 14001,
            "stack_level": 0,
            "kind": "session",
            "purpose": "TxProfile",
            "transaction_id": "a4b1c2d3",
            "schedule": {
                "unit": "A",
                "start": "2026-12-06T08:00:02+00:00",
                "duration_s": None,
                "periods": [[0, 20.0, None]],
            },
        }
    ],
}


@extend_schema_serializer(examples=[ex.returns("A charger's profiles", PROFILES_REPORT)])
class ProfilesReportSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProfilesReport
        fields = [
            "id",
            "charger",
            "request_id",
            "command",
            "started_at",
            "updated_at",
            "complete",
            "parts",
            "profiles",
        ]


class ProfilesReportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """The charging profiles chargers listed when asked (the command `get_charging_profiles`),
    one report per request, `complete` once the charger said it had sent them all. Each
    profile's schedule: unit (A or W), start, duration_s and periods [[start s, limit,
    phases]]; `kind` is what it is to the control loop (session, fallback, charger_max)."""

    serializer_class = ProfilesReportSerializer
    filterset_fields = ["charger", "request_id", "complete"]
    ordering = ["-started_at", "-id"]

    def get_queryset(self):
        return ProfilesReport.objects.all()


# --- the plan ----------------------------------------------------------------------------------


class PlanConnectorSerializer(serializers.Serializer):
    charger = serializers.IntegerField()
    charger_identity = serializers.CharField()
    evse_id = serializers.IntegerField()
    session = serializers.IntegerField()
    limit_a = serializers.FloatField(help_text="Per phase; 0 while paused.")
    paused = serializers.BooleanField()
    binding = serializers.CharField(help_text="What limited it: a node id, max, draw, ...")
    reason = serializers.CharField(help_text="Why, in English.")
    reason_text = text_field()
    periods = serializers.ListField(
        child=serializers.ListField(), help_text="[[start, limit A], ...]: the short schedule."
    )
    draw_a = serializers.FloatField(allow_null=True)
    fallback_a = serializers.FloatField(allow_null=True, help_text="Its share when offline.")


@extend_schema_serializer(examples=[ex.returns("A site's plan", LOAD_PLAN, 200)])
class LoadPlanSerializer(serializers.Serializer):
    site = serializers.IntegerField()
    computed_at = serializers.DateTimeField(allow_null=True)
    trigger = serializers.CharField()
    grid_limit_a = serializers.FloatField(allow_null=True)
    grid_source = serializers.CharField()
    sharing = serializers.CharField()
    nodes = serializers.ListField(
        child=serializers.DictField(), help_text="The tree: id, name, limit_a, phases, parent."
    )
    load = serializers.DictField(
        child=serializers.DictField(child=serializers.FloatField()),
        help_text="Planned current per node and phase.",
    )
    connectors = PlanConnectorSerializer(many=True)


class LoadPlanViewSet(TenantViewSet):
    """A site's current load plan: the limit of each connector with the reason for it."""

    pagination_class = None
    serializer_class = LoadPlanSerializer

    def get_queryset(self):
        return Site.objects.all()

    @extend_schema(responses={200: LoadPlanSerializer})
    @action(detail=True, methods=["get"], url_path="load-plan", url_name="detail")
    def load_plan(self, request, pk=None):
        """The plan the control loop computed last for the site (empty before the first)."""
        site = get_object_or_404(self.get_queryset(), pk=pk)
        return Response(LoadPlanSerializer(selectors.plan_view(site)).data)
