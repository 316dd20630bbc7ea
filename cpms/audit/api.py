"""The audit log in the REST API: list (filters as the page's), read one, export as CSV. Read
only, for admin keys (and admins' browser sessions): no method changes an entry."""

from __future__ import annotations

import zoneinfo

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.renderers import JSONRenderer

from cpms.api import examples as ex
from cpms.api.base import CsvRenderer, CursorPaged, TenantViewSet
from cpms.audit.exports import audit_csv
from cpms.audit.filters import AuditEntryFilter
from cpms.audit.models import AuditEntry
from cpms.audit.selectors import audit_entries
from cpms.exports import export_filename
from cpms.models import Role

EXAMPLE = {
    "id": 812,
    "at": "2026-12-06T09:14:03.120000Z",
    "actor_kind": "api_key",
    "actor": "Fleet tool (cpms_3fa9c1d2)",
    "actor_user_id": None,
    "actor_key_id": 4,
    "actor_role": "admin",
    "door": "api",
    "ip_address": "198.51.100.23",
    "user_agent": "fleet-tool/2.1",
    "action": "password",
    "object_type": "charger_credentials",
    "object_id": "17",
    "object_label": "DEMO-0001",
    "changes": {"password": {"before": "********", "after": "********"}},
}

EXAMPLE_CSV = (
    "entry_id,at,actor_kind,actor,actor_role,door,ip_address,user_agent,action,object_type,"
    "object_id,object_label,changes\r\n"
    "812,2026-12-06T10:14:03.120000+01:00,api_key,Fleet tool (cpms_3fa9c1d2),admin,api,"
    "198.51.100.23,fleet-tool/2.1,password,charger_credentials,17,DEMO-0001,"
    '"{""password"": {""after"": ""********"", ""before"": ""********""}}"\r\n'
)


@extend_schema_serializer(examples=[ex.returns("A charger's password set by a key", EXAMPLE)])
class AuditEntrySerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_label", read_only=True)

    class Meta:
        model = AuditEntry
        fields = [
            "id",
            "at",
            "actor_kind",
            "actor",
            "actor_user_id",
            "actor_key_id",
            "actor_role",
            "door",
            "ip_address",
            "user_agent",
            "action",
            "object_type",
            "object_id",
            "object_label",
            "changes",
        ]
        read_only_fields = fields


class AuditEntryViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, CursorPaged, TenantViewSet
):
    """Every write by a person or an API key in this tenant: who, when, from where, what
    (object, fields before and after; secrets masked). Admin keys only; entries never change."""

    serializer_class = AuditEntrySerializer
    filterset_class = AuditEntryFilter
    # `at` is stamped by this server per entry: ties are broken by id.
    ordering_fields = ["id", "at"]
    read_role = Role.ADMIN
    write_role = Role.ADMIN

    def get_queryset(self):
        return audit_entries()

    @extend_schema(
        parameters=[OpenApiParameter("format", str, enum=["csv"], required=False)],
        responses={(200, "text/csv"): OpenApiTypes.STR},
        examples=ex.download("The audit log as CSV", EXAMPLE_CSV, "text/csv"),
    )
    @action(detail=False, methods=["get"], renderer_classes=[JSONRenderer, CsvRenderer])
    def export(self, request):
        """The filtered entries as CSV (the list's filters), oldest first; times in the
        tenant's time zone, changes as JSON."""
        return audit_csv(
            self.filter_queryset(self.get_queryset()),
            tz=zoneinfo.ZoneInfo(self.tenant.timezone),
            tenant=self.tenant,
            filename=export_filename("audit-log", self.tenant),
        )
