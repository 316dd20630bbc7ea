"""What the smart-charging tests build and do alike: chargers charging at a site, and every
profile the control loop sent answered."""

from decimal import Decimal

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.utils import timezone

from chargers.models import (
    Charger,
    ChargingSession,
    Command,
    CommandStatus,
    Connector,
    SessionState,
)
from chargers.services.commands import command_finish


def charging_chargers(site, identities, *, first_transaction: int):
    """A charger per identity at `site` (1.6 and 2.0.1 in turn), online on a socket nobody
    reads, each charging a session at 11 kW; the chargers and the sessions."""
    now = timezone.now()
    layer = get_channel_layer()
    chargers, sessions = [], []
    for n, identity in enumerate(identities, start=1):
        charger = Charger.objects.create(
            identity=identity,
            site=site,
            ocpp_version="1.6" if n % 2 else "2.0.1",
            is_online=True,
            channel_name=async_to_sync(layer.new_channel)(),
        )
        Connector.objects.create(charger=charger, evse_id=1, connector_id=1, status="Charging")
        sessions.append(
            ChargingSession.objects.create(
                charger=charger,
                site=site,
                evse_id=1,
                connector_id=1,
                transaction_id=str(first_transaction + n),
                started_at=now,
                state=SessionState.ACTIVE,
                power_w=Decimal("11000"),
            )
        )
        chargers.append(charger)
    return chargers, sessions


def answer_all(status="Accepted", outcome=CommandStatus.ANSWERED):
    """Every command waiting for its charger finished with `outcome` (answered `status`)."""
    for command in Command.objects.filter(status__in=[CommandStatus.QUEUED, CommandStatus.SENT]):
        command_finish(
            command_id=command.pk,
            status=outcome,
            response={"status": status} if outcome == CommandStatus.ANSWERED else None,
        )
