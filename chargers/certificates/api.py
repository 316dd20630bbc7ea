"""Certificates in the REST API: the tenant's CA and policy, the certificates it issued, the
requests chargers made, the root certificates chargers hold, rotations and root certificate
operations (per charger or a fleet). Roles come from `chargers.certificates.access`."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_serializer, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.reverse import reverse

from chargers.certificates import access, selectors
from chargers.certificates import examples as ex
from chargers.certificates.models import (
    CertificateAuthority,
    CertificateOperation,
    CertificateSettings,
    InstalledCertificate,
    IssuedCertificate,
    IssuedState,
    OperationKind,
    RequestState,
    RootKind,
    SigningRequest,
)
from chargers.certificates.services import authority, renewal, roots
from chargers.certificates.services import settings as settings_services
from chargers.models import Charger
from chargers.ocpp.builders import ActionError
from chargers.services import commands
from cpms.api.base import (
    CursorPaged,
    TenantPrimaryKeyRelatedField,
    TenantSettingsViewSet,
    TenantViewSet,
    validation_error,
)
from cpms.models import Site

RETRY_AFTER = 2


# --- The CA and the policy ----------------------------------------------------------------------


@extend_schema_serializer(examples=[ex.returns("The tenant's CA", ex.AUTHORITY)])
class AuthoritySerializer(serializers.ModelSerializer):
    class Meta:
        model = CertificateAuthority
        fields = [
            "id",
            "source",
            "subject",
            "fingerprint",
            "not_after",
            "certificate_pem",
            "chain_pem",
            "created_at",
        ]
        read_only_fields = fields


class AuthorityImportSerializer(serializers.Serializer):
    certificate = serializers.CharField(
        help_text="PEM: the sub-CA's certificate first, then those above it."
    )
    key = serializers.CharField(
        write_only=True, help_text="PEM: the sub-CA's unencrypted private key (kept sealed)."
    )


class AuthorityViewSet(TenantSettingsViewSet):
    """The CA that signs the tenant's chargers: everyone reads it (never its key); admins
    create a new built-in one or import their own sub-CA, which replaces it."""

    serializer_class = AuthoritySerializer
    read_role = access.READ
    write_role = access.MANAGE_AUTHORITY

    @extend_schema(examples=ex.exchange("The tenant's CA", response=ex.AUTHORITY))
    def retrieve(self, request):
        """The active CA; before the first is created (on a charger's first request, or by an
        admin), its fields are empty."""
        current = selectors.active_authority() or CertificateAuthority()
        return Response(AuthoritySerializer(current).data)

    @extend_schema(
        request=None,
        responses={201: AuthoritySerializer},
        examples=ex.exchange("A new CA", response=ex.AUTHORITY, status=201),
    )
    def create_built_in(self, request):
        """Create a new built-in CA (a tenant root and a CPO sub-CA) to sign from now on."""
        return Response(
            AuthoritySerializer(authority.authority_create()).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        request=AuthorityImportSerializer,
        responses={201: AuthoritySerializer},
        examples=ex.exchange(
            "Import a sub-CA", request=ex.IMPORT_REQUEST, response=ex.IMPORTED, status=201
        ),
    )
    def import_pem(self, request):
        """Sign with a sub-CA of your own PKI from now on (certificate and key, PEM)."""
        serializer = AuthorityImportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            imported = authority.authority_import(
                certificate_pem=serializer.validated_data["certificate"],
                key_pem=serializer.validated_data["key"],
            )
        except DjangoValidationError as error:
            raise validation_error(error) from None
        return Response(AuthoritySerializer(imported).data, status=status.HTTP_201_CREATED)


class SettingsSerializer(serializers.ModelSerializer):
    class Meta:
        model = CertificateSettings
        fields = ["renew_days", "pin_issued"]


@extend_schema_view(
    retrieve=extend_schema(examples=ex.exchange("The policy", response=ex.SETTINGS)),
    partial_update=extend_schema(
        examples=ex.exchange(
            "Renew two weeks ahead",
            request={"renew_days": 14},
            response={**ex.SETTINGS, "renew_days": 14},
        )
    ),
)
class SettingsViewSet(TenantSettingsViewSet):
    """The tenant's certificate policy: how many days before expiry chargers are asked for a
    new certificate, and whether profile 3 accepts only certificates issued here. Admins only."""

    serializer_class = SettingsSerializer
    read_role = write_role = access.MANAGE_AUTHORITY

    def current(self):
        return settings_services.certificate_settings()

    def change(self, **values):
        return settings_services.certificate_settings_set(**values)


# --- Issued certificates and requests -----------------------------------------------------------


class RecordsViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CursorPaged, TenantViewSet):
    """Records of the tenant's certificate work anyone of it may read: listed newest by id,
    filtered by their filterset, never written through the API."""

    read_role = access.READ
    ordering_fields = ["id"]


@extend_schema_serializer(examples=[ex.returns("An installed certificate", ex.ISSUED)])
class IssuedSerializer(serializers.ModelSerializer):
    charger_identity = serializers.CharField(source="charger.identity", read_only=True)

    class Meta:
        model = IssuedCertificate
        fields = [
            "id",
            "charger",
            "charger_identity",
            "use",
            "serial",
            "subject",
            "issuer",
            "not_before",
            "not_after",
            "fingerprint",
            "state",
            "pem",
            "created_at",
        ]
        read_only_fields = fields


class IssuedFilter(filters.FilterSet):
    charger = filters.NumberFilter(field_name="charger_id")
    state = filters.ChoiceFilter(choices=IssuedState.choices)
    expires_before = filters.IsoDateTimeFilter(field_name="not_after", lookup_expr="lte")

    class Meta:
        model = IssuedCertificate
        fields = ["charger", "state", "expires_before"]


class IssuedViewSet(RecordsViewSet):
    """Certificates the tenant's CA issued to its chargers: serial, subject, validity,
    SHA-256 fingerprint and whether the charger installed it."""

    serializer_class = IssuedSerializer
    filterset_class = IssuedFilter

    def get_queryset(self):
        return IssuedCertificate.objects.select_related("charger")


@extend_schema_serializer(examples=[ex.returns("A refused CSR", ex.REQUEST)])
class RequestSerializer(serializers.ModelSerializer):
    charger_identity = serializers.CharField(source="charger.identity", read_only=True)

    class Meta:
        model = SigningRequest
        fields = [
            "id",
            "charger",
            "charger_identity",
            "use",
            "state",
            "reason",
            "certificate",
            "command",
            "csr_pem",
            "created_at",
        ]
        read_only_fields = fields


class RequestFilter(filters.FilterSet):
    charger = filters.NumberFilter(field_name="charger_id")
    state = filters.ChoiceFilter(choices=RequestState.choices)

    class Meta:
        model = SigningRequest
        fields = ["charger", "state"]


class RequestViewSet(RecordsViewSet):
    """The CSRs chargers sent (SignCertificate): accepted and signed, or rejected and why."""

    serializer_class = RequestSerializer
    filterset_class = RequestFilter

    def get_queryset(self):
        return SigningRequest.objects.select_related("charger")


class RotationSerializer(serializers.Serializer):
    charger = TenantPrimaryKeyRelatedField(queryset=Charger.objects.all())
    command = serializers.IntegerField(read_only=True)
    status = serializers.CharField(read_only=True)


class RotationViewSet(TenantViewSet):
    """Rotate a charger's certificate: it is asked to make a new key and CSR now (2.0.1
    TriggerMessage, 1.6 ExtendedTriggerMessage); its CSR is then signed as any other."""

    serializer_class = RotationSerializer
    read_role = access.READ
    write_role = access.OPERATE
    pagination_class = None

    @extend_schema(
        request=RotationSerializer,
        responses={202: RotationSerializer, 201: RotationSerializer},
        examples=[
            *ex.exchange(
                "Sent: poll Location", request={"charger": 12}, response=ex.ROTATION, status=202
            ),
            *ex.exchange(
                "The charger is offline", response={**ex.ROTATION, "status": "offline"}, status=201
            ),
        ],
    )
    def create(self, request):
        """202 with the command's URL in `Location` to poll (201 when the outcome is known at
        once: the charger is offline)."""
        serializer = RotationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        command = renewal.certificate_rotate(
            charger=serializer.validated_data["charger"], requested_by=request.auth.user
        )
        body = {"charger": command.charger_id, "command": command.pk, "status": command.status}
        if command.status not in commands.UNFINISHED:
            return Response(body, status=status.HTTP_201_CREATED)
        location = reverse("api:command-detail", kwargs={"pk": command.pk})
        return Response(
            body,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": location, "Retry-After": str(RETRY_AFTER)},
        )


# --- Root certificates on chargers ----------------------------------------------------------------


@extend_schema_serializer(examples=[ex.returns("A CSMS root", ex.INSTALLED)])
class InstalledSerializer(serializers.ModelSerializer):
    charger_identity = serializers.CharField(source="charger.identity", read_only=True)

    class Meta:
        model = InstalledCertificate
        fields = [
            "id",
            "charger",
            "charger_identity",
            "kind",
            "hash_algorithm",
            "issuer_name_hash",
            "issuer_key_hash",
            "serial_number",
            "subject",
            "seen_at",
        ]
        read_only_fields = fields


class InstalledFilter(filters.FilterSet):
    charger = filters.NumberFilter(field_name="charger_id")
    kind = filters.ChoiceFilter(choices=RootKind.choices)

    class Meta:
        model = InstalledCertificate
        fields = ["charger", "kind"]


class InstalledViewSet(RecordsViewSet):
    """The root certificates each charger holds, as it last listed them (or as installed)."""

    serializer_class = InstalledSerializer
    filterset_class = InstalledFilter

    def get_queryset(self):
        return InstalledCertificate.objects.select_related("charger")


@extend_schema_serializer(examples=[ex.returns("An install, sent", ex.OPERATION)])
class OperationSerializer(serializers.ModelSerializer):
    charger_identity = serializers.CharField(source="charger.identity", read_only=True)

    class Meta:
        model = CertificateOperation
        fields = [
            "id",
            "batch",
            "charger",
            "charger_identity",
            "kind",
            "root_kind",
            "hash_data",
            "state",
            "detail",
            "command",
            "created_at",
        ]
        read_only_fields = fields


class BatchSerializer(serializers.Serializer):
    batch = serializers.CharField(help_text="Filter the operations by it to poll their outcomes.")
    operations = OperationSerializer(many=True)


class HashDataSerializer(serializers.Serializer):
    hash_algorithm = serializers.ChoiceField(
        choices=["SHA256", "SHA384", "SHA512"], default="SHA256"
    )
    issuer_name_hash = serializers.CharField(max_length=128)
    issuer_key_hash = serializers.CharField(max_length=128)
    serial_number = serializers.CharField(max_length=40)


class OperationRequestSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=OperationKind.choices)
    chargers = serializers.ListField(
        child=TenantPrimaryKeyRelatedField(queryset=Charger.objects.all()),
        required=False,
        help_text="The chargers; or name a site.",
    )
    site = TenantPrimaryKeyRelatedField(
        queryset=Site.objects.all(), required=False, help_text="Every charger of the site."
    )
    root_kind = serializers.ChoiceField(choices=RootKind.choices, required=False)
    certificate = serializers.CharField(required=False, help_text="Install: the PEM.")
    hash_data = HashDataSerializer(required=False, help_text="Delete: which certificate.")

    def validate(self, attrs):
        chargers = list(attrs.get("chargers") or [])
        if attrs.get("site") is not None:
            chargers += [c for c in Charger.objects.filter(site=attrs["site"]) if c not in chargers]
        if not chargers:
            raise ValidationError({"chargers": ["Name chargers or a site with chargers."]})
        attrs["targets"] = chargers
        kind = attrs["kind"]
        if kind == OperationKind.INSTALL:
            for field in ("root_kind", "certificate"):
                if not attrs.get(field):
                    raise ValidationError({field: ["Required to install a certificate."]})
        if kind == OperationKind.DELETE and not attrs.get("hash_data"):
            raise ValidationError({"hash_data": ["Required to delete a certificate."]})
        return attrs


class OperationFilter(filters.FilterSet):
    charger = filters.NumberFilter(field_name="charger_id")
    batch = filters.CharFilter()
    kind = filters.ChoiceFilter(choices=OperationKind.choices)

    class Meta:
        model = CertificateOperation
        fields = ["charger", "batch", "kind"]


class OperationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, CursorPaged, TenantViewSet
):
    """Root certificate operations: install one, list what chargers hold, delete one, on
    chosen chargers or a site's. Each charger's outcome is its own row (poll the batch)."""

    serializer_class = OperationSerializer
    read_role = access.READ
    write_role = access.OPERATE
    filterset_class = OperationFilter
    ordering_fields = ["id"]

    def get_queryset(self):
        return CertificateOperation.objects.select_related("charger")

    @extend_schema(
        request=OperationRequestSerializer,
        responses={202: BatchSerializer},
        examples=ex.exchange(
            "Install a root on a site's chargers",
            request=ex.OPERATION_REQUEST,
            response={"batch": ex.OPERATION["batch"], "operations": [ex.OPERATION]},
            status=202,
        ),
    )
    def create(self, request):
        """Send the operation to each charger; 202 with the batch's rows (poll them by
        `?batch=`: each charger's outcome is its own)."""
        serializer = OperationRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user, chargers = request.auth.user, data["targets"]
        try:
            if data["kind"] == OperationKind.INSTALL:
                done = roots.roots_install(
                    chargers=chargers,
                    root_kind=data["root_kind"],
                    pem=data["certificate"],
                    requested_by=user,
                )
            elif data["kind"] == OperationKind.LIST:
                done = roots.roots_list(chargers=chargers, requested_by=user)
            else:
                done = roots.roots_delete(
                    chargers=chargers, hash_data=dict(data["hash_data"]), requested_by=user
                )
        except DjangoValidationError as error:
            raise validation_error(error) from None
        except ActionError as error:
            raise ValidationError({"non_field_errors": [str(error)]}) from None
        body = {"batch": done[0].batch if done else "", "operations": done}
        return Response(BatchSerializer(body).data, status=status.HTTP_202_ACCEPTED)
