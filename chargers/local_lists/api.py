"""Local lists in the REST API: the policies (the tenant's, a site's, a charger's), each
charger's list as it last confirmed it, and "sync now" for a charger or the fleet (202: the
sync runs as commands to the chargers; poll the charger's list). Roles come from
`chargers.local_lists.access`."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.urls import reverse
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from chargers.local_lists import access, selectors
from chargers.local_lists import examples as ex
from chargers.local_lists.models import LocalListPolicy, PolicyMode, SyncOutcome, SyncStep
from chargers.local_lists.services import policies
from chargers.local_lists.tasks import sync_charger, sync_chargers
from chargers.models import Charger, IdToken
from cpms.api.base import TenantPrimaryKeyRelatedField, TenantViewSet, validation_error
from cpms.models import Site

# Seconds a client is asked to wait before polling a charger's list after "sync now".
RETRY_AFTER = 5


@extend_schema_serializer(
    examples=[ex.returns("A site's override: the fleet's cards only", ex.POLICY)]
)
class PolicySerializer(serializers.ModelSerializer):
    site = TenantPrimaryKeyRelatedField(
        queryset=Site.objects, required=False, allow_null=True, help_text="A site's override."
    )
    charger = TenantPrimaryKeyRelatedField(
        queryset=Charger.objects,
        required=False,
        allow_null=True,
        help_text="A charger's override. Neither site nor charger: the tenant's policy.",
    )
    groups = TenantPrimaryKeyRelatedField(
        queryset=IdToken.objects,
        many=True,
        required=False,
        help_text="With mode groups: the group tokens whose members (and themselves) are listed.",
    )
    mode = serializers.ChoiceField(choices=PolicyMode.choices)

    class Meta:
        model = LocalListPolicy
        fields = ["id", "site", "charger", "mode", "groups", "updated_at"]
        read_only_fields = ["updated_at"]
        # One policy per scope is checked by the service, in the scope.
        validators: list = []


@extend_schema_view(
    create=extend_schema(
        examples=ex.exchange(
            "Only a group's cards at a site",
            request=ex.POLICY_REQUEST,
            response=ex.POLICY,
            status=201,
        )
    ),
    partial_update=extend_schema(
        examples=ex.exchange(
            "Every token",
            request=ex.POLICY_CHANGE,
            response={**ex.POLICY, "mode": "all", "groups": []},
        )
    ),
)
class LocalListPolicyViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    TenantViewSet,
):
    """Which id tokens chargers keep for offline authorization: the tenant's policy (off by
    default) and the sites' and chargers' overrides. Admins change them; everyone reads."""

    serializer_class = PolicySerializer
    read_role = access.READ
    write_role = access.MANAGE_POLICY
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return LocalListPolicy.objects.select_related("site", "charger").prefetch_related("groups")

    def perform_create(self, serializer):
        try:
            serializer.instance = policies.local_list_policy_create(**serializer.validated_data)
        except DjangoValidationError as error:
            raise validation_error(error) from error

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        for scope in ("site", "charger"):
            if scope in data and data[scope] != getattr(serializer.instance, scope):
                raise ValidationError(
                    {scope: ["A policy's scope stays; delete it and create another."]}
                )
        try:
            serializer.instance = policies.local_list_policy_update(
                policy=serializer.instance, mode=data.get("mode"), groups=data.get("groups")
            )
        except DjangoValidationError as error:
            raise validation_error(error) from error

    def perform_destroy(self, instance):
        policies.local_list_policy_delete(policy=instance)


class LocalListEntrySerializer(serializers.Serializer):
    uid = serializers.CharField()
    type = serializers.CharField()
    status = serializers.CharField()
    expires_at = serializers.CharField(help_text="ISO 8601, or empty.")
    group = serializers.CharField(help_text="The group token's uid, or empty.")


@extend_schema_serializer(examples=[ex.returns("A charger in sync", ex.LOCAL_LIST, 200)])
class LocalListSerializer(serializers.Serializer):
    """A charger's local list as it last confirmed it, and how its sync went."""

    charger = serializers.IntegerField(source="charger.pk")
    identity = serializers.CharField(source="charger.identity")
    managed = serializers.BooleanField(help_text="A policy other than off applies to it.")
    in_sync = serializers.BooleanField(
        allow_null=True, help_text="It holds its policy's list; null: not known yet."
    )
    desired_entries = serializers.IntegerField(source="desired_count", allow_null=True)
    supported = serializers.BooleanField(source="state.supported", allow_null=True, default=None)
    support_note = serializers.CharField(source="state.support_note", default="")
    capacity = serializers.IntegerField(source="state.capacity", allow_null=True, default=None)
    per_message = serializers.IntegerField(
        source="state.per_message", allow_null=True, default=None
    )
    bytes_per_message = serializers.IntegerField(
        source="state.bytes_per_message", allow_null=True, default=None
    )
    version = serializers.IntegerField(source="state.version", default=0)
    reported_version = serializers.IntegerField(
        source="state.reported_version", allow_null=True, default=None
    )
    entry_count = serializers.SerializerMethodField()
    step = serializers.ChoiceField(choices=SyncStep.choices, source="state.step", default="")
    last_sync_at = serializers.DateTimeField(
        source="state.last_sync_at", allow_null=True, default=None
    )
    last_outcome = serializers.ChoiceField(
        choices=SyncOutcome.choices, source="state.last_outcome", default=""
    )
    last_error = serializers.CharField(source="state.last_error", default="")

    def get_entry_count(self, shown) -> int:
        return len(shown.state.entries) if shown.state is not None else 0


@extend_schema_serializer(
    examples=[ex.returns("A charger's list, one card blocked", ex.LOCAL_LIST_DETAIL, 200)]
)
class LocalListDetailSerializer(LocalListSerializer):
    entries = serializers.SerializerMethodField()

    @extend_schema_field(LocalListEntrySerializer(many=True))
    def get_entries(self, shown) -> list[dict]:
        return list(LocalListEntrySerializer(selectors.shown_entries(shown.state), many=True).data)


class Shown:
    """A charger with its list state, as the serializers read it."""

    def __init__(self, charger: Charger, lists: selectors.DesiredLists | None = None):
        listed = selectors.list_state(charger, lists=lists)
        self.charger = charger
        self.managed = listed.managed
        self.in_sync = listed.in_sync
        self.desired_count = listed.desired_count
        self.state = listed.state


SYNC_FLEET = inline_serializer(
    "LocalListSyncRequest",
    {
        "site": serializers.IntegerField(
            required=False, help_text="Only this site's chargers; none: the whole fleet."
        )
    },
)
QUEUED = inline_serializer(
    "LocalListSyncQueued",
    {"queued": serializers.IntegerField(), "poll": serializers.CharField()},
)


class LocalListViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Each charger's local list (`/local-lists/{charger id}/`): version, entries, whether it
    holds its policy's list, the last sync's outcome. "sync" asks the charger for its list's
    limits and version and sends what it lacks."""

    read_role = access.READ
    write_role = access.SYNC
    serializer_class = LocalListSerializer

    def get_queryset(self):
        return Charger.objects.select_related("local_list").order_by("identity", "pk")

    def get_serializer_class(self):
        return LocalListDetailSerializer if self.action == "retrieve" else LocalListSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "due",
                bool,
                description="true: only the connected chargers whose list differs from their "
                "policy's (those the next sync will update).",
            )
        ]
    )
    def list(self, request, *args, **kwargs):
        chargers = self.get_queryset()
        due = request.query_params.get("due", "")
        if due not in ("", "true", "false"):
            raise ValidationError({"due": ["true or false."]})
        if due:
            wanted = selectors.chargers_due()
            chargers = (
                chargers.filter(pk__in=wanted) if due == "true" else chargers.exclude(pk__in=wanted)
            )
        page = self.paginate_queryset(chargers)
        lists = selectors.DesiredLists()
        rows = [Shown(charger, lists) for charger in page or []]
        return self.get_paginated_response(LocalListSerializer(rows, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        return Response(LocalListDetailSerializer(Shown(self.get_object())).data)

    @extend_schema(
        request=None,
        responses={202: QUEUED},
        examples=ex.exchange("Queued: poll the list", response=ex.QUEUED, status=202),
    )
    @action(detail=True, methods=["post"])
    def sync(self, request, pk=None):
        """Sync the charger's list now: its limits and version are asked first, a drifted list
        is replaced by a full update. 202: poll the charger's list."""
        charger = self.get_object()
        user_id = request.auth.user.pk if request.auth.user else None
        transaction.on_commit(
            lambda: sync_charger.delay(
                tenant_id=self.tenant.pk, charger_id=charger.pk, user_id=user_id, refresh=True
            )
        )
        location = reverse("api:local-list-detail", kwargs={"pk": charger.pk})
        return Response(
            {"queued": 1, "poll": location},
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": location, "Retry-After": str(RETRY_AFTER)},
        )

    @extend_schema(
        operation_id="local_lists_sync_fleet",
        request=SYNC_FLEET,
        responses={202: QUEUED},
        examples=ex.exchange(
            "One site's chargers", request={"site": 3}, response=ex.FLEET_QUEUED, status=202
        ),
    )
    @action(detail=False, methods=["post"], url_path="sync")
    def sync_fleet(self, request):
        """Sync the lists of every connected charger (of one site) now. 202: poll the lists."""
        chargers = Charger.objects.filter(is_online=True)
        site_id = request.data.get("site")
        if site_id not in (None, ""):
            try:
                site = Site.objects.get(pk=int(site_id))
            except (TypeError, ValueError, Site.DoesNotExist):
                raise ValidationError({"site": ["No such site."]}) from None
            chargers = chargers.filter(site=site)
        ids = list(chargers.values_list("pk", flat=True))
        user_id = request.auth.user.pk if request.auth.user else None
        if ids:
            transaction.on_commit(
                lambda: sync_chargers.delay(
                    tenant_id=self.tenant.pk, charger_ids=ids, user_id=user_id
                )
            )
        location = reverse("api:local-list-list")
        return Response(
            {"queued": len(ids), "poll": location},
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": location, "Retry-After": str(RETRY_AFTER)},
        )
