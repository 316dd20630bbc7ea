"""What every API view stands on: who is calling, for which tenant, with which role.

`TenantViewSet` owns the tenant scope and the role check, so a resource cannot forget either:
authentication resolves the tenant (an API key through `cpms.tenancy.api_key_for` and
`api_tenant_for`: a tenant key's own tenant, or the `X-Tenant` slug for a platform staff key;
a browser session through its `X-Tenant` slug and the user's membership), the viewset opens the data
layer's scope for the rest of the request, and the permission compares the caller's role with
the role the resource asks for. Rows of other tenants are then unreachable: the scoped manager
answers 404 for their ids, exactly as for ids that never existed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import TYPE_CHECKING, Any, cast

import redis
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import (
    exceptions,
    mixins,
    pagination,
    permissions,
    serializers,
    throttling,
    viewsets,
)
from rest_framework.authentication import BaseAuthentication, SessionAuthentication
from rest_framework.exceptions import APIException
from rest_framework.filters import BaseFilterBackend, OrderingFilter
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import exception_handler

from cpms.audit import context as audit_context
from cpms.models import ROLE_RANK, ApiKey, PlatformApiKey, Role, Tenant
from cpms.tenancy import scoping
from cpms.tenancy.doors import (
    TenantHeaderError,
    api_key_for,
    api_tenant_for,
    memberships_of,
    resolve_web_tenant,
)

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from django_filters import FilterSet
    from rest_framework.generics import BaseFilterProtocol

TENANT_HEADER = "HTTP_X_TENANT"


@dataclass(frozen=True)
class ApiContext:
    """The tenant a request acts for and the role it acts with (DRF's `request.auth`)."""

    tenant: Tenant
    role: str
    user: object | None = None  # the person behind it: the session user or the key's creator
    key: ApiKey | PlatformApiKey | None = None

    def allows(self, role: str) -> bool:
        return ROLE_RANK.get(self.role, 0) >= ROLE_RANK[role]

    @property
    def source(self) -> str:
        """How audit records (commands) name the caller."""
        return f"api:{self.key.prefix}" if self.key else "api:session"


def api_actor(request: Any) -> audit_context.Actor | None:
    """Who an API request's writes are recorded for: its key, or the browser's person."""
    context = context_of(request)
    if context is None:
        return None
    if context.key is not None:
        return audit_context.key_holder(context.key, request=request)
    if context.user is None:
        return None
    return audit_context.person(
        cast(Any, context.user), role=context.role, door="api", request=request
    )


def context_of(request: Any) -> ApiContext | None:
    """The tenant and role one of our authentications gave the request, if one did."""
    return request.auth if isinstance(request.auth, ApiContext) else None


class ApiKeyUser:
    """`request.user` for a request made with a key: authenticated, but nobody's login."""

    is_authenticated = True
    is_anonymous = False
    is_superuser = False
    is_staff = False
    pk = id = None

    def __init__(self, key: ApiKey | PlatformApiKey):
        self.key = key

    def __str__(self):
        return f"API key {self.key.prefix}"


class ApiKeyAuthentication(BaseAuthentication):
    """`Authorization: Bearer <key>`. A tenant key decides the tenant by itself (an `X-Tenant`
    naming another tenant is refused); a platform staff key acts for the `X-Tenant` slug."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != self.keyword.lower():
            return None
        key = api_key_for(raw.strip())
        if key is None:
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked API key.")
        try:
            tenant = api_tenant_for(key, request.META.get(TENANT_HEADER, "").strip())
        except TenantHeaderError as problem:
            raise exceptions.ValidationError({"X-Tenant": [str(problem)]}) from None
        context = ApiContext(tenant=tenant, role=key.member_role, user=key.created_by, key=key)
        return ApiKeyUser(key), context

    def authenticate_header(self, request):
        return f'{self.keyword} realm="api"'


class TenantSessionAuthentication(SessionAuthentication):
    """A logged-in browser (the interactive docs): the tenant comes from the `X-Tenant` header
    or `?tenant=` slug and must be one of the user's; CSRF is enforced as for any form."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        user = result[0]
        slug = request.META.get(TENANT_HEADER) or request.query_params.get("tenant")
        if not slug:
            memberships = memberships_of(user)
            if user.is_superuser or len(memberships) != 1:
                raise exceptions.ValidationError(
                    {"X-Tenant": ["Name the tenant with the X-Tenant header or ?tenant=slug."]}
                )
            slug = memberships[0].tenant.slug
        tenant, membership = resolve_web_tenant(user, slug)
        # Platform staff have no membership and act as admins.
        role = Role.ADMIN if user.is_superuser or membership is None else membership.role
        return user, ApiContext(tenant=tenant, role=role, user=user)


class HasTenantRole(permissions.BasePermission):
    """The caller's role reaches the role the view asks for this request."""

    message = "This API key's role does not allow this."

    def has_permission(self, request, view):
        context = context_of(request)
        return context is not None and context.allows(view.required_role(request))


class PerKeyThrottle(throttling.SimpleRateThrottle):
    """Requests per key (or per person for browser sessions), whatever the address."""

    scope = "api"

    def get_cache_key(self, request, view):
        context = context_of(request)
        if context is None:
            return None
        # Prefixes are unique across tenant and platform keys (cpms_ / cpmsp_).
        ident = f"key-{context.key.prefix}" if context.key else f"user-{request.user.pk}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class CursorPagination(pagination.CursorPagination):
    """For the big, growing tables: stable under inserts and cheap at any depth."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
    ordering = "-id"


class CursorOrderingFilter(OrderingFilter):
    """`?ordering=` for a cursor-paged table: one of the view's `ordering_fields`, either way round.

    A cursor stands on its first ordering column and steps over rows sharing its value with an
    offset that DRF caps at 1000, so a column many rows share (a charger-reported timestamp)
    skips and repeats rows. Views list only unique columns (id) or server-stamped times, where
    a tie needs two rows in the same microsecond; a time column gets the id as its tie-breaker,
    so tied rows come back in the same order on every page. Any other value is a 400 naming
    `ordering`, never silently another order.
    """

    def get_ordering(self, request, queryset, view):
        term = request.query_params.get(self.ordering_param, "").strip()
        if not term:
            return self.get_default_ordering(view)
        allowed = [t for name in view.ordering_fields for t in (name, f"-{name}")]
        if term not in allowed:
            raise exceptions.ValidationError(
                {self.ordering_param: [f"Order by one of: {', '.join(allowed)}."]}
            )
        if term.lstrip("-") == "id":
            return (term,)
        return (term, "-id" if term.startswith("-") else "id")


class CursorPaged:
    """A viewset mixin for big, growing tables: cursor pages, django-filter filters, and
    ordering only by the view's `ordering_fields` (CursorOrderingFilter)."""

    pagination_class: type[pagination.BasePagination] | None = CursorPagination
    filter_backends: Sequence[type[BaseFilterBackend | BaseFilterProtocol[Any]]] = [
        filters.DjangoFilterBackend,
        CursorOrderingFilter,
    ]


class DateTimeFilter(filters.IsoDateTimeFilter):
    """An ISO 8601 bound, compared in UTC. Python accepts offsets up to 24 hours where
    PostgreSQL stops at 16, so the offset is applied here and an impossible moment is a 400."""

    # Set by the FilterSet that binds the filter; django-filter's stubs leave it out.
    parent: FilterSet

    def filter(self, qs, value):
        if value:
            try:
                value = value.astimezone(UTC)
            except OverflowError:
                param = next(n for n, f in self.parent.filters.items() if f is self)
                raise exceptions.ValidationError(
                    {param: ["This moment is out of range."]}
                ) from None
        return super().filter(qs, value)


def time_range(field: str) -> tuple[DateTimeFilter, DateTimeFilter]:
    """A FilterSet's two bounds on a time field, from (inclusive) and to (exclusive):
    `since, until = time_range("created_at")`."""
    return (
        DateTimeFilter(field_name=field, lookup_expr="gte"),
        DateTimeFilter(field_name=field, lookup_expr="lt"),
    )


class TenantPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A reference to another of the tenant's rows. Its choices are read in the request's
    scope (the field is built at import time, outside any), so another tenant's id is
    "does not exist", like an id that never existed."""

    def get_queryset(self) -> QuerySet[Any]:
        return super().get_queryset().model._default_manager.all()


class TenantModelSerializer(serializers.ModelSerializer):
    """A serializer of a tenant-owned row: references resolve in the request's scope. It
    validates the input; the viewset's service writes the row and checks what spans rows."""

    serializer_related_field = TenantPrimaryKeyRelatedField


class TenantViewSet(viewsets.GenericViewSet):
    """The base of every API resource. Subclasses name their roles; the scope is not theirs.

    `read_role` guards safe methods, `write_role` the others, `action_roles` single actions.
    """

    authentication_classes = [ApiKeyAuthentication, TenantSessionAuthentication]
    permission_classes = [HasTenantRole]
    throttle_classes = [PerKeyThrottle]
    pagination_class: type[pagination.BasePagination] | None = PageNumberPagination
    read_role: str = Role.VIEWER
    write_role: str = Role.OPERATOR
    action_roles: dict[str, str] = {}

    def required_role(self, request) -> str:
        if self.action in self.action_roles:
            return self.action_roles[self.action]
        if request.method in permissions.SAFE_METHODS:
            return self.read_role
        return self.write_role

    @property
    def tenant(self) -> Tenant:
        # HasTenantRole admits only requests whose authentication produced an ApiContext.
        return cast(ApiContext, self.request.auth).tenant

    def dispatch(self, request, *args, **kwargs):
        # Whatever scope the web middleware opened (a staff session sees every tenant) is
        # replaced by "none" until authentication names the tenant, and restored afterwards.
        # The audit actor likewise: nobody until authentication names the key or the person.
        token = scoping.activate(None)
        actor_token = audit_context.activate(None)
        try:
            return super().dispatch(request, *args, **kwargs)
        finally:
            audit_context.deactivate(actor_token)
            scoping.deactivate(token)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        scoping.activate(request.auth.tenant)
        audit_context.activate(api_actor(request))

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if self.request is not None and isinstance(self.request.auth, ApiContext):
            context["tenant"] = self.request.auth.tenant
        return context


class DownloadRenderer(BaseRenderer):
    """Lets a download's media type through content negotiation (the view answers with the
    file itself); errors still render as JSON."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return JSONRenderer().render(data)


class CsvRenderer(DownloadRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"


class PdfRenderer(DownloadRenderer):
    media_type = "application/pdf"
    format = "pdf"
    charset = None


class TenantSettingsViewSet(TenantViewSet):
    """A resource the tenant has one of, without an id (its settings of a kind): GET shows it,
    PATCH changes the fields it names. Subclasses say how it is read and written; the
    serializer validates, the service refuses what spans fields (a 400 naming them)."""

    pagination_class = None

    def current(self) -> Any:
        raise NotImplementedError

    def change(self, **values: Any) -> Any:
        raise NotImplementedError

    def retrieve(self, request):
        return Response(self.get_serializer(self.current()).data)

    def partial_update(self, request):
        serializer = self.get_serializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        return Response(self.get_serializer(self.change(**serializer.validated_data)).data)


class Conflict(APIException):
    status_code = 409
    default_code = "conflict"
    default_detail = "This conflicts with the resource's current state."


# --- Errors ---------------------------------------------------------------------------------


def _flatten(detail, prefix="") -> dict[str, list[str]]:
    """DRF's nested error detail as {"field.sub": ["message", ...]}."""
    if isinstance(detail, dict):
        fields: dict[str, list[str]] = {}
        for key, value in detail.items():
            # str(): DRF keys a list's item errors by index, and item 0 must still show.
            name = str(key) if key != "non_field_errors" else ""
            fields.update(
                _flatten(value, f"{prefix}.{name}" if prefix and name else prefix or name)
            )
        return fields
    if isinstance(detail, list):
        if all(isinstance(item, str) for item in detail):
            return {prefix or "non_field_errors": [str(item) for item in detail]}
        fields = {}
        for index, value in enumerate(detail):
            fields.update(_flatten(value, f"{prefix}.{index}" if prefix else str(index)))
        return fields
    return {prefix or "non_field_errors": [str(detail)]}


def validation_error(error: DjangoValidationError) -> exceptions.ValidationError:
    """A service's ValidationError as the API's 400, naming the fields."""
    if hasattr(error, "error_dict"):
        return exceptions.ValidationError(error.message_dict)
    return exceptions.ValidationError({"non_field_errors": error.messages})


# Seconds a client is told to wait after a 503.
RETRY_UNAVAILABLE = 5


def error_response(exc, context):
    """Every error has one shape: {"error": {"status", "code", "message", "fields"}}.

    `fields` maps each offending field (dotted for nested ones) to its messages, so a client
    can show the message next to the input it came from.
    """
    if isinstance(exc, DjangoValidationError):
        exc = validation_error(exc)
    elif isinstance(exc, IntegrityError):
        # The serializers check what they can; a race with a concurrent write ends here.
        exc = exceptions.APIException("This conflicts with an existing record; reload and retry.")
        exc.status_code, exc.default_code = 409, "conflict"
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, redis.RedisError):
        # Redis (the rate limit's counters, the channel layer) stalled or down: "not now", which
        # clients retry, rather than a 500 that reads as a bug. Nothing was done.
        exc = exceptions.APIException(
            _("The service is briefly unavailable; retry shortly."), code="unavailable"
        )
        exc.status_code = 503
    response = exception_handler(exc, context)
    if response is None:
        return None
    if response.status_code == 503:
        response["Retry-After"] = str(RETRY_UNAVAILABLE)
    fields: dict[str, list[str]] = {}
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        first = next(iter(fields.items()))
        where = "" if first[0] == "non_field_errors" else f"{first[0]}: "
        message = f"{where}{first[1][0]}"
        code = "invalid"
    else:
        message = str(exc.detail) if hasattr(exc, "detail") else str(exc)
        code = getattr(exc, "default_code", "error")
        codes = exc.get_codes() if hasattr(exc, "get_codes") else None
        if isinstance(codes, str):
            code = codes
    response.data = {
        "error": {
            "status": response.status_code,
            "code": code,
            "message": message,
            "fields": fields,
        }
    }
    return response


class ErrorDetailSerializer(serializers.Serializer):
    status = serializers.IntegerField()
    code = serializers.CharField()
    message = serializers.CharField()
    # The serializer's metaclass takes declared fields out of the class: this does not replace
    # Serializer.fields, whatever the stubs think.
    fields = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField())
    )


class ErrorSerializer(serializers.Serializer):
    """The body of every error response."""

    error = ErrorDetailSerializer()


# --- OpenAPI ----------------------------------------------------------------------------------


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "cpms.api.base.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key: `Authorization: Bearer <key>`. A tenant key (`cpms_…`, "
            "created by a tenant admin) decides the tenant and the role (read_only, operator, "
            "admin); an `X-Tenant` header naming another tenant is refused with 400. A platform "
            "staff key (`cpmsp_…`, created by platform staff) has a role but no tenant: every "
            "request names the tenant's slug in the `X-Tenant` header (400 when missing, 404 "
            "when no such tenant).",
        }


class TenantSessionScheme(OpenApiAuthenticationExtension):
    target_class = "cpms.api.base.TenantSessionAuthentication"
    name = "session"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": "sessionid",
            "description": "A logged-in browser; name the tenant with the X-Tenant header.",
        }


def document_errors(result, generator, request, public):
    """drf-spectacular postprocessing hook: every operation documents the one error body,
    for any 4XX status, so clients (and schema checks) know what an error looks like."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["status", "code", "message", "fields"],
                "properties": {
                    "status": {"type": "integer", "example": 400},
                    "code": {"type": "string", "example": "invalid"},
                    "message": {"type": "string", "example": "name: This field is required."},
                    "fields": {
                        "type": "object",
                        "additionalProperties": {"type": "array", "items": {"type": "string"}},
                        "example": {"name": ["This field is required."]},
                    },
                },
            }
        },
    }
    error = {
        "description": "The request was refused; `error.fields` names each bad input.",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    for path in result.get("paths", {}).values():
        for operation in path.values():
            if isinstance(operation, dict) and "responses" in operation:
                operation["responses"].setdefault("4XX", error)
    return result


class CrudViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    TenantViewSet,
):
    """A resource with the usual operations whose writes go through its services only:
    subclasses implement `create_row`, `update_row` and `delete_row` with one service call each
    (an operation a resource does not offer is left out of `http_method_names`). A
    ValidationError a service raises is a 400 naming the field, as any other."""

    filter_backends = [filters.DjangoFilterBackend, OrderingFilter]

    # Each resource takes its serializer's validated fields as keywords, in a signature of its own.
    def create_row(self, *args: Any, **data: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} creates nothing")

    def update_row(self, instance, **data):
        raise NotImplementedError(f"{type(self).__name__} changes nothing")

    def delete_row(self, instance) -> None:
        raise NotImplementedError(f"{type(self).__name__} removes nothing")

    def perform_create(self, serializer):
        serializer.instance = self.create_row(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = self.update_row(serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        self.delete_row(instance)
