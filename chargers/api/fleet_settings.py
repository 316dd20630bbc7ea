"""`/api/v1/charger-settings/`: the tenant's settings for its chargers (one resource per
tenant, no id), and `/onboarding-password/` below it to open onboarding of unknown chargers
with a new password (shown once) or close it."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.response import Response

from chargers.access import MANAGE_CHARGERS
from chargers.api.chargers import PasswordSerializer
from chargers.services import fleet_settings
from cpms.api import examples as ex
from cpms.api.base import TenantSettingsViewSet

SETTINGS = {
    "heartbeat_interval": 300,
    "offline_after_heartbeats": 3,
    "version_change": "follow",
    "close_sessions_after_hours": 48,
    "onboarding_open": False,
}


class FleetSettingsSerializer(serializers.Serializer):
    heartbeat_interval = serializers.IntegerField(
        min_value=fleet_settings.HEARTBEAT_SECONDS[0],
        max_value=fleet_settings.HEARTBEAT_SECONDS[1],
        help_text="Seconds between heartbeats; chargers get it in the reply to their next boot.",
    )
    offline_after_heartbeats = serializers.IntegerField(
        min_value=fleet_settings.OFFLINE_AFTER_HEARTBEATS[0],
        max_value=fleet_settings.OFFLINE_AFTER_HEARTBEATS[1],
        help_text="A connected charger silent for this many heartbeat intervals is offline.",
    )
    version_change = serializers.ChoiceField(
        choices=list(fleet_settings.VERSION_CHANGE_POLICIES),
        help_text="A charger comes back speaking another OCPP version: follow (record the new "
        "version) or refuse the connection.",
    )
    close_sessions_after_hours = serializers.IntegerField(
        min_value=fleet_settings.STALE_SESSION_HOURS[0],
        max_value=fleet_settings.STALE_SESSION_HOURS[1],
        help_text="Hours a session may go without word from its charger (no meter values, no "
        "stop) before the server closes it at its last reading; 0 never closes one. A stop the "
        "charger sends later replaces the server's figures.",
    )
    onboarding_open = serializers.BooleanField(
        read_only=True,
        help_text="Unknown chargers presenting the onboarding password are registered as "
        "Pending; change it through onboarding-password/.",
    )

    def to_representation(self, tenant):
        return {
            "heartbeat_interval": tenant.heartbeat_interval,
            "offline_after_heartbeats": tenant.offline_after_heartbeats,
            "version_change": fleet_settings.version_change_policy(tenant),
            "close_sessions_after_hours": fleet_settings.stale_session_hours(tenant),
            "onboarding_open": bool(
                tenant.accept_unknown_chargers and tenant.onboarding_password_hash
            ),
        }


@extend_schema_view(
    retrieve=extend_schema(examples=ex.exchange("The settings", response=SETTINGS)),
    partial_update=extend_schema(
        examples=ex.exchange(
            "Heartbeats every minute",
            request={"heartbeat_interval": 60},
            response={**SETTINGS, "heartbeat_interval": 60},
        )
    ),
)
class FleetSettingsViewSet(TenantSettingsViewSet):
    """The tenant's settings for its chargers. Admins only."""

    serializer_class = FleetSettingsSerializer
    read_role = write_role = MANAGE_CHARGERS

    def current(self):
        return self.tenant

    def change(self, **values):
        return fleet_settings.fleet_settings_update(tenant=self.tenant, **values)

    @extend_schema(
        request=PasswordSerializer,
        responses={201: PasswordSerializer},
        examples=ex.exchange(
            "Open onboarding with a generated password",
            request={},
            response={"password": "Zx4Tq8Lm1Rv7Wc3Np9Ks2Hd6Jf5Gb0Ya"},
            status=201,
        ),
    )
    def open_onboarding(self, request):
        """Admit unknown chargers presenting this password (given or generated) as Pending;
        the previous one stops working. The response shows it once."""
        serializer = PasswordSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        password = fleet_settings.onboarding_open(
            tenant=self.tenant, password=serializer.validated_data.get("password")
        )
        return Response({"password": password}, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None})
    def close_onboarding(self, request):
        """Refuse unknown chargers again; registered chargers keep their passwords."""
        fleet_settings.onboarding_close(tenant=self.tenant)
        return Response(status=status.HTTP_204_NO_CONTENT)
