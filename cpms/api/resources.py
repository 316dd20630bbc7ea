"""Tenancy resources of the API: sites, site owners, members and the tenant's API keys."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_serializer, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.response import Response

from cpms import apikeys
from cpms.api import examples as ex
from cpms.api.base import TenantModelSerializer, TenantViewSet
from cpms.forms import MemberForm
from cpms.models import ApiKey, ApiKeyRole, Membership, Role, Site, SiteOwner
from cpms.views import _send_invitation


class CrudViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    TenantViewSet,
):
    filter_backends = [filters.DjangoFilterBackend, OrderingFilter]


# --- Sites and site owners ----------------------------------------------------------------------


@extend_schema_serializer(examples=[ex.returns("A site owner", ex.SITE_OWNER)])
class SiteOwnerSerializer(TenantModelSerializer):
    unique_in_tenant = ("name",)

    class Meta:
        model = SiteOwner
        fields = ["id", "name", "contact_email", "contact_phone", "created_at"]


@extend_schema_serializer(examples=[ex.returns("A site", ex.SITE)])
class SiteSerializer(TenantModelSerializer):
    unique_in_tenant = ("name",)

    class Meta:
        model = Site
        fields = [
            "id",
            "name",
            "site_owner",
            "street",
            "postal_code",
            "city",
            "country",
            "latitude",
            "longitude",
            "timezone",
            "grid_limit_kw",
            "created_at",
        ]
        extra_kwargs = {"grid_limit_kw": {"min_value": Decimal("0.01")}}


SITE_FIELDS = [f for f in SiteSerializer.Meta.fields if f not in ("id", "created_at")]
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
    write_role = Role.ADMIN
    filterset_fields = ["site_owner", "country", "city"]
    ordering_fields = ["name", "created_at"]
    ordering = ["name"]

    def get_queryset(self):
        return Site.objects.all()


OWNER_FIELDS = ["name", "contact_email", "contact_phone"]
NEW_PHONE_OWNER = {**ex.SITE_OWNER, "contact_phone": "+49 40 7654321"}


@extend_schema_view(
    create=extend_schema(
        examples=ex.exchange(
            "A new owner",
            request=ex.pick(ex.SITE_OWNER, *OWNER_FIELDS),
            response=ex.SITE_OWNER,
            status=201,
        )
    ),
    update=extend_schema(
        examples=ex.exchange(
            "Replace every field",
            request=ex.pick(NEW_PHONE_OWNER, *OWNER_FIELDS),
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
    write_role = Role.ADMIN
    ordering_fields = ["name", "created_at"]
    ordering = ["name"]

    def get_queryset(self):
        return SiteOwner.objects.all()


# --- Members ------------------------------------------------------------------------------------


@extend_schema_serializer(examples=[ex.returns("A member", ex.MEMBER)])
class MemberSerializer(serializers.ModelSerializer):
    email = serializers.EmailField(source="user.email")
    site_owner = serializers.IntegerField(source="site_owner_id", allow_null=True, required=False)

    class Meta:
        model = Membership
        fields = ["id", "email", "role", "site_owner", "created_at"]
        read_only_fields = ["created_at"]

    def validate(self, attrs):
        # The dashboard's form is the one place membership rules live; the API feeds it.
        data = {
            "email": attrs.get("user", {}).get("email")
            or (self.instance.user.email if self.instance else ""),
            "role": attrs.get("role") or (self.instance.role if self.instance else ""),
            "site_owner": attrs.get("site_owner_id", getattr(self.instance, "site_owner_id", None))
            or "",
        }
        initial = {"email": self.instance.user.email} if self.instance else None
        form = MemberForm(
            data, initial=initial, tenant=self.context["tenant"], member=self.instance
        )
        if not form.is_valid():
            raise serializers.ValidationError(
                {field: [str(m) for m in messages] for field, messages in form.errors.items()}
            )
        request = self.context["request"]
        if self.instance is not None and self.instance.user_id == getattr(request.user, "pk", 0):
            if form.cleaned_data["role"] != Role.ADMIN:
                raise serializers.ValidationError(
                    {"role": ["You cannot remove your own admin role."]}
                )
        self._form = form
        return attrs

    def save(self, **kwargs):
        member, created = self._form.save()
        if created:
            request = self.context["request"]
            request.tenant = self.context["tenant"]
            _send_invitation(request, member)
        self.instance = member
        return member


OPERATOR_MEMBER = {**ex.MEMBER, "role": "operator"}


@extend_schema_view(
    create=extend_schema(
        description="Invite a person by email; new accounts get an email to choose a password.",
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
    read_role = write_role = Role.ADMIN
    filterset_fields = ["role"]
    ordering_fields = ["created_at"]

    def get_queryset(self):
        return Membership.objects.select_related("user")

    def perform_destroy(self, instance):
        if instance.user_id == getattr(self.request.user, "pk", 0):
            raise serializers.ValidationError({"id": ["You cannot remove yourself."]})
        instance.delete()


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
    read_role = write_role = Role.ADMIN
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
        new = apikeys.create_api_key(
            tenant=self.tenant,
            created_by=self.request.auth.user,
            **serializer.validated_data,
        )
        new.key.secret = new.secret
        return Response(NewApiKeySerializer(new.key).data, status=status.HTTP_201_CREATED)

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
        key = apikeys.revoke_api_key(key=self.get_object())
        return Response(ApiKeySerializer(key).data)
