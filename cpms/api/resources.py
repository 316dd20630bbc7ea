"""Tenancy resources of the API: sites, site owners, members and the tenant's API keys."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_serializer, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from cpms.api import examples as ex
from cpms.api.base import (
    CrudViewSet,
    TenantModelSerializer,
    TenantPrimaryKeyRelatedField,
    TenantViewSet,
)
from cpms.models import ApiKey, ApiKeyRole, Membership, Site, SiteOwner
from cpms.services import apikeys
from cpms.services import members as member_services
from cpms.services import sites as site_services
from cpms.services.sites import SITE_FIELDS, SITE_OWNER_FIELDS
from cpms.tenancy.access import MANAGE_API_KEYS, MANAGE_MEMBERS, MANAGE_SITES

# --- Sites and site owners ----------------------------------------------------------------------


@extend_schema_serializer(examples=[ex.returns("A site owner", ex.SITE_OWNER)])
class SiteOwnerSerializer(TenantModelSerializer):
    class Meta:
        model = SiteOwner
        fields = ["id", *SITE_OWNER_FIELDS, "created_at"]


@extend_schema_serializer(examples=[ex.returns("A site", ex.SITE)])
class SiteSerializer(TenantModelSerializer):
    class Meta:
        model = Site
        fields = ["id", *SITE_FIELDS, "created_at"]
        extra_kwargs = {"grid_limit_kw": {"min_value": Decimal("0.01")}}


RENAMED_SITE = {**ex.SITE, "name": "Mall Hamburg Nord"}


@extend_schema_view(
    create=extend_schema(
        examples=ex.exchange(
            "A new site", request=ex.pick(ex.SITE, *SITE_FIELDS), response=ex.SITE, status=201
        )
    ),
    update=extend_schema(
        examples=ex.exchange(
            "Replace every field",
            request=ex.pick(RENAMED_SITE, *SITE_FIELDS),
            response=RENAMED_SITE,
        )
    ),
    partial_update=extend_schema(
        examples=ex.exchange("Rename", request={"name": "Mall Hamburg Nord"}, response=RENAMED_SITE)
    ),
)
class SiteViewSet(CrudViewSet):
    """Places with chargers and one grid connection. Admins write, everyone reads."""

    serializer_class = SiteSerializer
    write_role = MANAGE_SITES
    filterset_fields = ["site_owner", "country", "city"]
    ordering_fields = ["name", "created_at"]
    ordering = ["name"]

    def get_queryset(self):
        return Site.objects.all()

    def create_row(self, **data):
        return site_services.site_create(**data)

    def update_row(self, instance, **data):
        return site_services.site_update(site=instance, **data)

    def delete_row(self, instance):
        site_services.site_delete(site=instance)


NEW_PHONE_OWNER = {**ex.SITE_OWNER, "contact_phone": "+49 40 7654321"}


@extend_schema_view(
    create=extend_schema(
        examples=ex.exchange(
            "A new owner",
            request=ex.pick(ex.SITE_OWNER, *SITE_OWNER_FIELDS),
            response=ex.SITE_OWNER,
            status=201,
        )
    ),
    update=extend_schema(
        examples=ex.exchange(
            "Replace every field",
            request=ex.pick(NEW_PHONE_OWNER, *SITE_OWNER_FIELDS),
            response=NEW_PHONE_OWNER,
        )
    ),
    partial_update=extend_schema(
        examples=ex.exchange(
            "A new phone number",
            request={"contact_phone": "+49 40 7654321"},
            response=NEW_PHONE_OWNER,
        )
    ),
)
class SiteOwnerViewSet(CrudViewSet):
    """A tenant's customer organisations hosting chargers. Admins write, everyone reads."""

    serializer_class = SiteOwnerSerializer
    write_role = MANAGE_SITES
    ordering_fields = ["name", "created_at"]
    ordering = ["name"]

    def get_queryset(self):
        return SiteOwner.objects.all()

    def create_row(self, **data):
        return site_services.site_owner_create(**data)

    def update_row(self, instance, **data):
        return site_services.site_owner_update(owner=instance, **data)

    def delete_row(self, instance):
        site_services.site_owner_delete(owner=instance)


# --- Members ------------------------------------------------------------------------------------


@extend_schema_serializer(examples=[ex.returns("A member", ex.MEMBER)])
class MemberSerializer(serializers.ModelSerializer):
    email = serializers.EmailField(source="user.email")
    site_owner = TenantPrimaryKeyRelatedField(
        queryset=SiteOwner.objects.all(), allow_null=True, required=False
    )

    class Meta:
        model = Membership
        fields = ["id", "email", "role", "site_owner", "created_at", "accepted_at"]
        read_only_fields = ["created_at", "accepted_at"]

    def validate_email(self, value: str) -> str:
        if self.instance is not None and value.lower() != self.instance.user.email:
            raise serializers.ValidationError("A member's email cannot change; invite them anew.")
        return value


# A PATCH that leaves the site owner out keeps the member's.
_KEEP = object()
OPERATOR_MEMBER = {**ex.MEMBER, "role": "operator"}


@extend_schema_view(
    create=extend_schema(
        description="Invite a person by email. A new account gets the role at once and an "
        "email to choose a password; an existing account is invited and gets the role when "
        "its owner accepts (`accepted_at` null until then).",
        examples=ex.exchange(
            "Invite",
            request={"email": "eve@example.com", "role": "viewer"},
            response=ex.MEMBER,
            status=201,
        ),
    ),
    update=extend_schema(
        examples=ex.exchange(
            "Make an operator",
            request={"email": "eve@example.com", "role": "operator", "site_owner": None},
            response=OPERATOR_MEMBER,
        )
    ),
    partial_update=extend_schema(
        examples=ex.exchange(
            "Make an operator", request={"role": "operator"}, response=OPERATOR_MEMBER
        )
    ),
)
class MemberViewSet(CrudViewSet):
    """People with a role in the tenant. Admins only."""

    serializer_class = MemberSerializer
    read_role = write_role = MANAGE_MEMBERS
    filterset_fields = ["role"]
    ordering_fields = ["created_at"]

    def get_queryset(self):
        return Membership.objects.select_related("user")

    def create_row(self, *, user, role, site_owner=None):
        membership, _ = member_services.membership_invite(
            tenant=self.tenant, email=user["email"], role=role, site_owner=site_owner
        )
        return membership

    def update_row(self, instance, *, role=None, site_owner=_KEEP, **_):
        return member_services.membership_update(
            membership=instance,
            role=role or instance.role,
            site_owner=instance.site_owner if site_owner is _KEEP else site_owner,
            actor=self.request.auth.user,
        )

    def delete_row(self, instance):
        member_services.membership_remove(membership=instance, actor=self.request.auth.user)


# --- API keys -----------------------------------------------------------------------------------


@extend_schema_serializer(examples=[ex.returns("A key", ex.API_KEY)])
class ApiKeySerializer(serializers.ModelSerializer):
    created_by = serializers.EmailField(
        source="created_by.email", read_only=True, default=None, allow_null=True
    )
    active = serializers.SerializerMethodField()

    class Meta:
        model = ApiKey
        fields = [
            "id",
            "name",
            "role",
            "prefix",
            "active",
            "created_by",
            "created_at",
            "expires_at",
            "revoked_at",
            "last_used_at",
        ]
        read_only_fields = ["prefix", "created_at", "revoked_at", "last_used_at"]

    def get_active(self, key) -> bool:
        return key.is_usable()

    def validate_expires_at(self, value):
        if value is not None and value <= timezone.now():
            raise serializers.ValidationError("Choose a moment in the future.")
        return value


class NewApiKeySerializer(ApiKeySerializer):
    secret = serializers.CharField(
        read_only=True, help_text="The key itself. Shown once: store it now."
    )

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "secret"]


class ApiKeyViewSet(
    mixins.ListModelMixin, mixins.CreateModelMixin, mixins.RetrieveModelMixin, TenantViewSet
):
    """The tenant's API keys. Admins only; a key's secret is shown once, when it is created."""

    serializer_class = ApiKeySerializer
    read_role = write_role = MANAGE_API_KEYS
    filterset_fields = ["role"]
    filter_backends = [filters.DjangoFilterBackend]

    def get_queryset(self):
        return ApiKey.objects.select_related("created_by")

    @extend_schema(
        request=ApiKeySerializer,
        responses={201: NewApiKeySerializer},
        examples=ex.exchange(
            "A read-only key for a reporting tool",
            request={"name": "Reporting", "role": ApiKeyRole.READ_ONLY},
            response={
                **ex.API_KEY,
                "last_used_at": None,
                "secret": "cpms_k3x9q2ab_6mZ0vQ1rT8yW3nB5cX7kL2pD9fG4hJ0sA1eR6uI8",
            },
            status=201,
        ),
    )
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        new = apikeys.api_key_create(
            tenant=self.tenant,
            created_by=self.request.auth.user,
            **serializer.validated_data,
        )
        # The secret is no column of the key: it joins this one response (NewApiKeySerializer
        # documents its shape).
        body = {**ApiKeySerializer(new.key).data, "secret": new.secret}
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={200: ApiKeySerializer},
        examples=ex.exchange(
            "Revoked",
            response={**ex.API_KEY, "active": False, "revoked_at": "2026-03-03T08:00:00Z"},
        ),
    )
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        """Revoke a key at once; requests made with it fail from now on."""
        key = apikeys.api_key_revoke(key=self.get_object())
        return Response(ApiKeySerializer(key).data)
