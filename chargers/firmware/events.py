"""The firmware domain's events: a campaign changed state, a charger's update moved on, a
diagnostics upload arrived or failed. Each is a webhook event too (the fields are its `data`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Self

from cpms.events import DomainEvent

if TYPE_CHECKING:
    from chargers.firmware.models import Campaign, CampaignTarget, DiagnosticsRequest


@dataclass(frozen=True, kw_only=True)
class CampaignStateChanged(DomainEvent):
    """A campaign started, paused (by an operator or on a wave's failures), resumed, completed
    or was cancelled; `reason` says why it paused."""

    name = "firmware.campaign"
    webhook = "firmware.campaign"

    campaign_id: int
    campaign_name: str
    state: str
    reason: str
    version: str

    @classmethod
    def of(cls, campaign: Campaign) -> Self:
        return cls(
            tenant_id=campaign.tenant_id,
            campaign_id=campaign.pk,
            campaign_name=campaign.name,
            state=str(campaign.state),
            reason=campaign.paused_reason,
            version=campaign.image.version,
        )


@dataclass(frozen=True, kw_only=True)
class TargetStateChanged(DomainEvent):
    """A charger's update in a campaign moved to another state (with the failure reason)."""

    name = "firmware.charger"
    webhook = "firmware.charger"

    campaign_id: int
    charger_id: int
    wave: int
    state: str
    attempt: int
    detail: str

    @classmethod
    def of(cls, target: CampaignTarget, *, wave: int, detail: str = "") -> Self:
        return cls(
            tenant_id=target.tenant_id,
            campaign_id=target.campaign_id,
            charger_id=target.charger_id,
            wave=wave,
            state=str(target.state),
            attempt=target.attempt,
            detail=detail,
        )


@dataclass(frozen=True, kw_only=True)
class DiagnosticsStateChanged(DomainEvent):
    """A diagnostics request moved on: accepted, uploading, uploaded (the file is here) or
    failed (with the error)."""

    name = "firmware.diagnostics"
    webhook = "diagnostics.state"

    diagnostics_id: int
    charger_id: int
    state: str
    error: str

    @classmethod
    def of(cls, request: DiagnosticsRequest) -> Self:
        return cls(
            tenant_id=request.tenant_id,
            diagnostics_id=request.pk,
            charger_id=request.charger_id,
            state=str(request.state),
            error=request.error,
        )
