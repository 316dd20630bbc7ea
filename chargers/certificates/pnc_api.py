"""Plug & Charge in the REST API: the provider settings (secrets never shown), the built-in
V2G PKI's certificates, the contract certificates it issued (issue one for a test EV, revoke)
and the EV certificate requests chargers forwarded. Roles from `chargers.certificates.access`."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_serializer, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from chargers.certificates import access, selectors
from chargers.certificates import examples as ex
from chargers.certificates.api import RecordsViewSet
from chargers.certificates.models import (
    ContractCertificate,
    EvCertificateRequest,
    EvRequestStatus,
    OcspMode,
    PlugAndChargeSettings,
    ProviderKind,
    V2gAuthority,
)
from chargers.certificates.services import contracts
from chargers.certificates.services import pnc_settings as settings_services
from chargers.models import IdToken
from cpms.api.base import (
    TenantPrimaryKeyRelatedField,
    TenantSettingsViewSet,
    validation_error,
)


class PncSettingsSerializer(serializers.ModelSerializer):
    remote_secret = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        help_text="The provider's password or token; never shown. Empty keeps the stored one.",
    )
    remote_secret_set = serializers.SerializerMethodField()
    provider = serializers.ChoiceField(choices=ProviderKind.choices, required=False)
    ocsp_mode = serializers.ChoiceField(choices=OcspMode.choices, required=False)
    token_group = TenantPrimaryKeyRelatedField(
        queryset=IdToken.objects.all(),
        allow_null=True,
        required=False,
        help_text="The group of the eMAID tokens the built-in PKI creates.",
    )

    class Meta:
        model = PlugAndChargeSettings
        fields = [
            "provider",
            "remote_url",
            "remote_username",
            "remote_secret",
            "remote_secret_set",
            "remote_timeout",
            "ocsp_mode",
            "trusted_roots_pem",
            "token_group",
        ]

    def get_remote_secret_set(self, current: PlugAndChargeSettings) -> bool:
        return bool(current.remote_secret_sealed)


@extend_schema_view(
    retrieve=extend_schema(examples=ex.exchange("The settings", response=ex.PNC_SETTINGS)),
    partial_update=extend_schema(
        examples=ex.exchange("A remote provider", request=ex.PNC_CHANGE, response=ex.PNC_SETTINGS)
    ),
)
class PncSettingsViewSet(TenantSettingsViewSet):
    """Plug & Charge: where contract certificates come from (the built-in test V2G PKI or a
    remote provider by URL and credentials), who answers OCSP, the V2G roots trusted besides
    the built-in one and the group of the eMAID tokens it creates. Admins only."""

    serializer_class = PncSettingsSerializer
    read_role = write_role = access.MANAGE_AUTHORITY

    def current(self):
        return settings_services.pnc_settings()

    def change(self, **values):
        return settings_services.pnc_settings_set(**values)


@extend_schema_serializer(examples=[ex.returns("The built-in V2G PKI", ex.V2G_AUTHORITY)])
class V2gAuthoritySerializer(serializers.ModelSerializer):
    class Meta:
        model = V2gAuthority
        fields = ["root_pem", "mo_pem", "mo_subject", "mo_fingerprint", "not_after", "created_at"]
        read_only_fields = fields


class V2gAuthorityViewSet(TenantSettingsViewSet):
    """The tenant's built-in test V2G PKI: its V2G root (install it on chargers as their V2G
    root) and MO sub-CA. Created on first use; empty fields until then."""

    serializer_class = V2gAuthoritySerializer
    read_role = access.READ

    def current(self):
        return selectors.v2g_authority() or V2gAuthority()


@extend_schema_serializer(examples=[ex.returns("A contract certificate", ex.CONTRACT)])
class ContractSerializer(serializers.ModelSerializer):
    state = serializers.CharField(read_only=True, help_text="valid, expired or revoked")

    class Meta:
        model = ContractCertificate
        fields = [
            "id",
            "emaid",
            "id_token",
            "charger",
            "serial",
            "issuer_name_hash",
            "issuer_key_hash",
            "not_before",
            "not_after",
            "fingerprint",
            "state",
            "revoked_at",
            "pem",
            "created_at",
        ]
        read_only_fields = fields


class ContractIssueSerializer(serializers.Serializer):
    emaid = serializers.CharField(max_length=36, help_text="e.g. DE-ABC-C12345678-9")


class ContractFilter(filters.FilterSet):
    emaid = filters.CharFilter(lookup_expr="iexact")
    charger = filters.NumberFilter(field_name="charger_id")

    class Meta:
        model = ContractCertificate
        fields = ["emaid", "charger"]


class ContractViewSet(RecordsViewSet):
    """Contract certificates of the built-in test V2G PKI (CN = the eMAID): issued to
    simulated EVs through Get15118EVCertificate or here; revoking one makes the built-in OCSP
    responder say so, and Authorize refuse it."""

    serializer_class = ContractSerializer
    write_role = access.OPERATE
    filterset_class = ContractFilter

    def get_queryset(self):
        return ContractCertificate.objects.all()

    @extend_schema(
        request=ContractIssueSerializer,
        responses={201: ContractSerializer},
        examples=ex.exchange(
            "Issue a test contract",
            request=ex.CONTRACT_REQUEST,
            response={**ex.CONTRACT, "charger": None},
            status=201,
        ),
    )
    def create(self, request):
        """Issue a contract certificate for an eMAID (its token is created, or linked when
        one exists); its key stays sealed here."""
        serializer = ContractIssueSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            issued = contracts.contract_issue(emaid=serializer.validated_data["emaid"])
        except DjangoValidationError as error:
            raise validation_error(error) from None
        return Response(ContractSerializer(issued.contract).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={200: ContractSerializer},
        examples=ex.exchange("Revoked", response=ex.REVOKED),
    )
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        """Revoke the contract certificate (OCSP answers revoked from now on)."""
        revoked = contracts.contract_revoke(contract=self.get_object())
        return Response(ContractSerializer(revoked).data)


@extend_schema_serializer(examples=[ex.returns("An installed contract", ex.EV_REQUEST)])
class EvRequestSerializer(serializers.ModelSerializer):
    charger_identity = serializers.CharField(source="charger.identity", read_only=True)

    class Meta:
        model = EvCertificateRequest
        fields = [
            "id",
            "charger",
            "charger_identity",
            "action",
            "provider",
            "emaid",
            "status",
            "reason",
            "contract",
            "created_at",
        ]
        read_only_fields = fields


class EvRequestFilter(filters.FilterSet):
    charger = filters.NumberFilter(field_name="charger_id")
    status = filters.ChoiceFilter(choices=EvRequestStatus.choices)

    class Meta:
        model = EvCertificateRequest
        fields = ["charger", "status"]


class EvRequestViewSet(RecordsViewSet):
    """EV certificate requests (Get15118EVCertificate) chargers forwarded: the provider, the
    eMAID when known, Accepted or Failed and why."""

    serializer_class = EvRequestSerializer
    filterset_class = EvRequestFilter

    def get_queryset(self):
        return EvCertificateRequest.objects.select_related("charger")
