"""Firmware images, rollout campaigns with their waves and per-charger targets, and the
diagnostics (log) uploads chargers make at an operator's request."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from cpms.tenancy.scoping import TenantOwned


def image_path(instance: FirmwareImage, filename: str) -> str:
    # Never a name a tenant chose alone: the tenant and a random part keep files apart.
    return f"firmware/{instance.tenant_id}/images/{filename}"


def upload_path(instance: DiagnosticsRequest, filename: str) -> str:
    return f"firmware/{instance.tenant_id}/diagnostics/{instance.charger_id}/{filename}"


class FirmwareImage(TenantOwned):
    """One firmware version of one vendor's model: a file kept here, or an external URL."""

    vendor = models.CharField(max_length=50)
    model = models.CharField(max_length=50)
    version = models.CharField(max_length=50)
    file = models.FileField(upload_to=image_path, blank=True, max_length=300)
    file_name = models.CharField(max_length=200, blank=True, help_text="As uploaded.")
    size = models.BigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    external_url = models.URLField(max_length=512, blank=True)
    signature = models.TextField(
        blank=True, help_text="Base64 signature of the file, for secure firmware updates."
    )
    signing_certificate = models.TextField(
        blank=True, help_text="PEM certificate of the key that signed the file."
    )
    notes = models.CharField(max_length=500, blank=True)
    uploaded_by = models.ForeignKey(
        "cpms.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["vendor", "model", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "vendor", "model", "version"], name="firmware_image_unique"
            ),
            models.CheckConstraint(
                condition=~models.Q(file="") | ~models.Q(external_url=""),
                name="firmware_image_has_a_source",
            ),
        ]

    def __str__(self):
        return f"{self.vendor} {self.model} {self.version}"

    @property
    def is_signed(self) -> bool:
        return bool(self.signature and self.signing_certificate)


DEFAULT_DEFER_MINUTES = 60
DEFAULT_RETRY_DELAY_MINUTES = 10


class CampaignState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    RUNNING = "running", _("Running")
    PAUSED = "paused", _("Paused")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


class Campaign(TenantOwned):
    """A rollout of one image to the chargers a filter chose, frozen when it starts, in waves:
    a canary, then batches; each wave's failures are a gate for the next."""

    name = models.CharField(max_length=200)
    image = models.ForeignKey(FirmwareImage, on_delete=models.PROTECT, related_name="campaigns")
    state = models.CharField(
        max_length=10, choices=CampaignState.choices, default=CampaignState.DRAFT
    )

    # Which chargers: the image's vendor and model always; these narrow it down.
    sites = models.ManyToManyField("cpms.Site", blank=True, related_name="+")
    from_versions = models.JSONField(
        default=list, blank=True, help_text="Only chargers running one of these versions."
    )
    tags = models.JSONField(
        default=list, blank=True, help_text="Only chargers carrying one of these tags."
    )

    # How: waves, concurrency, when, and patience.
    canary_size = models.PositiveIntegerField(default=1)
    batch_size = models.PositiveIntegerField(null=True, blank=True)
    batch_percent = models.PositiveSmallIntegerField(null=True, blank=True)
    max_in_flight = models.PositiveIntegerField(default=20)
    failure_threshold_percent = models.PositiveSmallIntegerField(
        default=10, help_text="A wave whose failed share passes this pauses the campaign."
    )
    window_start = models.TimeField(null=True, blank=True, help_text="In each site's local time.")
    window_end = models.TimeField(null=True, blank=True)
    # Bounded by default: on a busy fleet a charger is seldom free at the moment a step looks,
    # so "until free" left waves waiting for hours. An hour covers a fast-charging session;
    # a longer (AC) one gets the update at the end of the hour and installs once it ends.
    defer_minutes = models.PositiveIntegerField(
        null=True,
        blank=True,
        default=DEFAULT_DEFER_MINUTES,
        help_text="A charger in a session is deferred this long at most; empty: until it is free.",
    )
    send_after_deferral = models.BooleanField(
        default=True,
        help_text="When a charger's deferral runs out: send the update anyway (chargers install "
        "once their session ended) rather than skip the charger.",
    )
    download_timeout_minutes = models.PositiveIntegerField(default=30)
    install_timeout_minutes = models.PositiveIntegerField(default=30)
    boot_timeout_minutes = models.PositiveIntegerField(default=15)
    max_attempts = models.PositiveSmallIntegerField(default=2)
    # A failed attempt is tried again only after this pause: what failed it (a mobile link, a
    # busy download server, a charger restarting) seldom clears within seconds.
    retry_delay_minutes = models.PositiveIntegerField(
        default=DEFAULT_RETRY_DELAY_MINUTES,
        help_text="Minutes before a failed charger is tried again.",
    )

    # English, and as a text shown in the reader's language (`cpms.texts`; null before).
    paused_reason = models.CharField(max_length=300, blank=True)
    paused_reason_text = models.JSONField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        "cpms.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "state"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(max_attempts__gte=1), name="campaign_at_least_one_attempt"
            ),
            models.CheckConstraint(
                condition=models.Q(max_in_flight__gte=1), name="campaign_some_in_flight"
            ),
        ]

    def __str__(self):
        return self.name


class WaveState(models.TextChoices):
    PENDING = "pending", _("Waiting")
    RUNNING = "running", _("Running")
    HALTED = "halted", _("Halted on failures")
    DONE = "done", _("Done")


class CampaignWave(TenantOwned):
    """One wave: number 0 is the canary (when the campaign has one)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="waves")
    number = models.PositiveIntegerField()
    size = models.PositiveIntegerField()
    state = models.CharField(max_length=10, choices=WaveState.choices, default=WaveState.PENDING)
    # Resumed by an operator after halting: its failures no longer hold the campaign.
    gate_overridden = models.BooleanField(default=False)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["campaign", "number"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "number"], name="campaign_wave_unique"),
        ]

    def __str__(self):
        return f"wave {self.number}"


class TargetState(models.TextChoices):
    PENDING = "pending", _("Waiting")
    DEFERRED = "deferred", _("Deferred (in a session)")
    SENDING = "sending", _("Update sent")
    ACCEPTED = "accepted", _("Accepted")
    DOWNLOADING = "downloading", _("Downloading")
    DOWNLOADED = "downloaded", _("Downloaded")
    INSTALLING = "installing", _("Installing")
    INSTALLED = "installed", _("Installed, waiting for the boot")
    SUCCEEDED = "succeeded", _("Updated")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped")
    CANCELLED = "cancelled", _("Cancelled")


# Under way at the charger: these count against the campaign's maximum in flight.
IN_FLIGHT = (
    TargetState.SENDING,
    TargetState.ACCEPTED,
    TargetState.DOWNLOADING,
    TargetState.DOWNLOADED,
    TargetState.INSTALLING,
    TargetState.INSTALLED,
)
FINISHED = (
    TargetState.SUCCEEDED,
    TargetState.FAILED,
    TargetState.SKIPPED,
    TargetState.CANCELLED,
)


class CampaignTarget(TenantOwned):
    """One charger of a campaign and how far its update got. `attempt` numbers the updates
    sent to it: a command goes out at most once per attempt (`dispatched_at`)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="targets")
    wave = models.ForeignKey(CampaignWave, on_delete=models.CASCADE, related_name="targets")
    charger = models.ForeignKey(
        "chargers.Charger", on_delete=models.CASCADE, related_name="firmware_targets"
    )
    from_version = models.CharField(max_length=50, blank=True)
    state = models.CharField(
        max_length=12, choices=TargetState.choices, default=TargetState.PENDING
    )
    attempt = models.PositiveSmallIntegerField(default=0)
    request_id = models.PositiveIntegerField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    command = models.ForeignKey(
        "chargers.Command", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    stage_deadline = models.DateTimeField(null=True, blank=True)
    deferred_since = models.DateTimeField(null=True, blank=True)
    # A failed attempt's charger waits until then for its next one.
    retry_at = models.DateTimeField(null=True, blank=True)
    last_status = models.CharField(max_length=40, blank=True, help_text="As the charger said.")
    failure_reason = models.CharField(max_length=300, blank=True)
    failure_reason_text = models.JSONField(null=True, blank=True, editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["campaign", "wave__number", "id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "charger"], name="campaign_target_unique"),
            # A charger runs one update at a time, whatever campaign asks for it.
            models.UniqueConstraint(
                fields=["charger"],
                condition=models.Q(state__in=IN_FLIGHT),
                name="campaign_target_one_in_flight",
            ),
        ]
        indexes = [
            models.Index(fields=["campaign", "state"]),
            models.Index(fields=["charger", "state"]),
        ]

    def __str__(self):
        return f"{self.charger_id} in {self.campaign_id}"


class TargetEvent(TenantOwned):
    """A charger's timeline in a campaign: each change of its state, with the reason."""

    target = models.ForeignKey(CampaignTarget, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    attempt = models.PositiveSmallIntegerField(default=0)
    state = models.CharField(max_length=12, choices=TargetState.choices)
    detail = models.CharField(max_length=300, blank=True)
    detail_text = models.JSONField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["at", "id"]


class DiagnosticsState(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    ACCEPTED = "accepted", _("Accepted by the charger")
    UPLOADING = "uploading", _("Uploading")
    UPLOADED = "uploaded", _("Uploaded")
    FAILED = "failed", _("Failed")


class DiagnosticsRequest(TenantOwned):
    """An operator's request for a charger's diagnostics (1.6) or log (2.0.1), the one-time
    upload URL issued for it, and the file that arrived there."""

    charger = models.ForeignKey(
        "chargers.Charger", on_delete=models.CASCADE, related_name="diagnostics_requests"
    )
    requested_by = models.ForeignKey(
        "cpms.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(
        max_length=10, choices=DiagnosticsState.choices, default=DiagnosticsState.REQUESTED
    )
    request_id = models.PositiveIntegerField(null=True, blank=True)
    # Only the hash of the token in the URL is kept; the token works once, until it expires.
    token_hash = models.CharField(max_length=64, unique=True)
    token_expires_at = models.DateTimeField()
    token_used_at = models.DateTimeField(null=True, blank=True)
    command = models.ForeignKey(
        "chargers.Command", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_status = models.CharField(max_length=40, blank=True, help_text="As the charger said.")
    error = models.CharField(max_length=500, blank=True)
    file = models.FileField(upload_to=upload_path, blank=True, max_length=300)
    file_name = models.CharField(max_length=200, blank=True)
    size = models.BigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    uploaded_at = models.DateTimeField(null=True, blank=True)
    keep_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["charger", "created_at"]),
            models.Index(fields=["keep_until"]),
        ]

    def __str__(self):
        return f"diagnostics of {self.charger_id} ({self.state})"
