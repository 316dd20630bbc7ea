"""Tenancy: who the operators are, who works for them, and where their chargers stand."""

import zoneinfo
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cpms.tenancy.scoping import TenantOwned


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            gettext("%(zone)s is not a known IANA time zone (e.g. Europe/Berlin).")
            % {"zone": repr(value)}
        )


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **extra: Any) -> "User":
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> "User":
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> "User":
        extra.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **extra)


class User(AbstractUser):
    """A person. Users are global; what they may see comes from their memberships."""

    # Removing an inherited field: django-stubs declares it a CharField.
    username = None  # type: ignore[assignment]
    email = models.EmailField("email address", unique=True)
    # Blank: the browser's language. Pages, live updates and emails to the person follow it.
    language = models.CharField(_("language"), max_length=8, blank=True, choices=settings.LANGUAGES)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    # Email-based; django-stubs wants the username-based manager of auth's own User.
    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]

    def __str__(self):
        return self.email


slug_validator = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$",
    "Use 1-40 lowercase letters, digits and hyphens, not starting or ending with a hyphen.",
)


def tenant_logo_path(tenant: "Tenant", filename: str) -> str:
    """Each tenant's files under a folder of its own; the service names the file."""
    return f"tenants/{tenant.pk}/{filename}"


class Tenant(models.Model):
    """A charge point operator: the unit of isolation."""

    slug = models.CharField(
        max_length=40, unique=True, validators=[slug_validator], verbose_name=_("slug")
    )
    name = models.CharField(max_length=200, verbose_name=_("name"))
    timezone = models.CharField(
        max_length=64, default="UTC", validators=[validate_timezone], verbose_name=_("timezone")
    )
    currency = models.CharField(
        max_length=3,
        default="EUR",
        validators=[RegexValidator(r"^[A-Z]{3}$", "Use an ISO 4217 code such as EUR.")],
        verbose_name=_("currency"),
    )
    settings = models.JSONField(default=dict, blank=True)
    # Shown in the header of its members' pages; set through `cpms.services.tenants`.
    logo = models.FileField(upload_to=tenant_logo_path, blank=True, max_length=200)
    is_active = models.BooleanField(default=True, verbose_name=_("active"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    # OCPP behaviour, per tenant.
    heartbeat_interval = models.PositiveIntegerField(
        default=300, help_text="Seconds between heartbeats, sent to chargers in boot replies."
    )
    offline_after_heartbeats = models.PositiveSmallIntegerField(
        default=3, help_text="A charger silent for this many heartbeat intervals is offline."
    )
    accept_unknown_chargers = models.BooleanField(
        default=False,
        help_text=(
            "Register unknown chargers presenting the onboarding password as Pending, "
            "for an operator to approve."
        ),
    )
    onboarding_password_hash = models.CharField(max_length=200, blank=True, editable=False)

    class Meta:
        verbose_name = _("tenant")
        verbose_name_plural = _("tenants")
        ordering = ["name"]

    def __str__(self):
        return self.name


class SiteOwner(TenantOwned):
    """A tenant's customer organisation hosting chargers (a mall, an office, a depot)."""

    name = models.CharField(max_length=200, verbose_name=_("name"))
    contact_email = models.EmailField(blank=True, verbose_name=_("contact email"))
    contact_phone = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("site owner")
        verbose_name_plural = _("site owners")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint("tenant", Lower("name"), name="siteowner_unique_name"),
        ]

    def __str__(self):
        return self.name


class Role(models.TextChoices):
    ADMIN = "admin", _("Admin")
    OPERATOR = "operator", _("Operator")
    VIEWER = "viewer", _("Viewer")
    PORTAL = "portal", _("Site owner (portal)")


# Operator roles in increasing power; the portal role is outside this order on purpose.
ROLE_RANK: dict[str, int] = {Role.VIEWER: 1, Role.OPERATOR: 2, Role.ADMIN: 3}


class Membership(TenantOwned):
    """A user's role in one tenant. Portal members belong to one of the tenant's site owners."""

    user = models.ForeignKey(
        "cpms.User", on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user")
    )
    role = models.CharField(max_length=16, choices=Role.choices, verbose_name=_("role"))
    site_owner = models.ForeignKey(
        SiteOwner,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="portal_members",
        verbose_name=_("site owner"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # A person who already has an account is only invited (None): the membership gives no
    # access until they accept it, so no tenant can enlist someone else's admin. Every other
    # membership (a new account's, a tenant's first admin) is accepted when it is made.
    accepted_at = models.DateTimeField(null=True, blank=True, default=timezone.now)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["user__email"]
        constraints = [
            models.UniqueConstraint(fields=["user", "tenant"], name="membership_unique_user"),
            models.CheckConstraint(
                condition=(
                    models.Q(role=Role.PORTAL, site_owner__isnull=False)
                    | (~models.Q(role=Role.PORTAL) & models.Q(site_owner__isnull=True))
                ),
                name="membership_portal_has_site_owner",
            ),
        ]

    def __str__(self):
        return f"{self.user} ({self.get_role_display()}) in {self.tenant}"

    def clean(self):
        if self.role == Role.PORTAL and not self.site_owner_id:
            raise ValidationError(
                {"site_owner": gettext("Choose the site owner this portal member belongs to.")}
            )
        if self.role != Role.PORTAL and self.site_owner_id:
            raise ValidationError(
                {"site_owner": gettext("Only portal members belong to a site owner.")}
            )
        site_owner = self.site_owner if self.site_owner_id else None
        if site_owner is not None and site_owner.tenant_id != self.tenant_id:
            raise ValidationError(
                {"site_owner": gettext("That site owner belongs to another tenant.")}
            )

    def allows(self, role: str) -> bool:
        """True when this membership is an operator role at least as strong as `role`."""
        return ROLE_RANK.get(self.role, 0) >= ROLE_RANK[role]


class Site(TenantOwned):
    """A place with chargers and one grid connection."""

    name = models.CharField(max_length=200, verbose_name=_("name"))
    site_owner = models.ForeignKey(
        SiteOwner,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sites",
        verbose_name=_("site owner"),
    )
    street = models.CharField(max_length=200, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    city = models.CharField(max_length=100, blank=True, verbose_name=_("city"))
    country = models.CharField(
        max_length=2,
        blank=True,
        validators=[RegexValidator(r"^[A-Z]{2}$", "Use an ISO 3166 alpha-2 code such as DE.")],
        verbose_name=_("country"),
    )
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    timezone = models.CharField(
        max_length=64, default="UTC", validators=[validate_timezone], verbose_name=_("timezone")
    )
    grid_limit_kw = models.DecimalField(
        _("grid connection limit (kW)"),
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("The most the site's chargers may draw together; empty means no limit."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("site")
        verbose_name_plural = _("sites")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint("tenant", Lower("name"), name="site_unique_name"),
            models.CheckConstraint(
                condition=models.Q(grid_limit_kw__isnull=True) | models.Q(grid_limit_kw__gt=0),
                name="site_grid_limit_positive",
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        site_owner = self.site_owner if self.site_owner_id else None
        if site_owner is not None and site_owner.tenant_id != self.tenant_id:
            raise ValidationError(
                {"site_owner": gettext("That site owner belongs to another tenant.")}
            )

    @property
    def address(self) -> str:
        return ", ".join(
            p for p in [self.street, f"{self.postal_code} {self.city}".strip(), self.country] if p
        )


# --- Integrators: API keys and webhooks ----------------------------------------------------------


class ApiKeyRole(models.TextChoices):
    """What a key may do; each maps onto the operator role of the same power."""

    READ_ONLY = "read_only", _("Read-only")
    OPERATOR = "operator", _("Operator")
    ADMIN = "admin", _("Admin")


API_KEY_ROLE_AS_MEMBER: dict[str, str] = {
    ApiKeyRole.READ_ONLY: Role.VIEWER,
    ApiKeyRole.OPERATOR: Role.OPERATOR,
    ApiKeyRole.ADMIN: Role.ADMIN,
}


class KeyFields(models.Model):
    """What every API key has: a public prefix that finds the row, a salted hash of the whole
    key, a role, and the moments that decide whether it still works."""

    name = models.CharField(max_length=100, verbose_name=_("name"))
    role = models.CharField(max_length=16, choices=ApiKeyRole.choices, verbose_name=_("role"))
    prefix = models.CharField(max_length=20, unique=True, editable=False, verbose_name=_("prefix"))
    secret_hash = models.CharField(max_length=200, editable=False)
    created_by = models.ForeignKey(
        "cpms.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True, verbose_name=_("expires at"))
    revoked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("revoked at"))
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    def is_usable(self, at=None) -> bool:
        from django.utils import timezone

        at = at or timezone.now()
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > at

    @property
    def member_role(self) -> str:
        return API_KEY_ROLE_AS_MEMBER[self.role]


class ApiKey(TenantOwned, KeyFields):
    """A tenant's key for the REST API. Only a salted hash of the secret is stored; the
    `prefix` (the key's public first part) finds the row and is what lists show."""

    class Meta(KeyFields.Meta):
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        pass


class PlatformApiKey(KeyFields):
    """A platform staff key: it belongs to no tenant and acts, with its role, for the tenant a
    request names in its `X-Tenant` header. Created by superusers (Django admin or the
    `create_platform_api_key` command); tenants never see these keys."""

    class Meta(KeyFields.Meta):
        verbose_name = _("platform API key")
        verbose_name_plural = _("platform API keys")


class WebhookEndpoint(TenantOwned):
    """An integrator's receiver: the URL, the events it wants, and the secret it verifies."""

    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    event_types = models.JSONField(default=list, help_text="Webhook event types to deliver.")
    secret = models.CharField(max_length=100, editable=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.url


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed after every retry")


class WebhookDelivery(TenantOwned):
    """The outbox: one event for one endpoint, written in the event's own transaction."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event_id = models.UUIDField(help_text="The same for every delivery and replay of an event.")
    event_type = models.CharField(max_length=50)
    payload = models.JSONField()
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempt_count = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    replay_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replays"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["tenant", "status", "next_attempt_at"])]


class WebhookAttempt(TenantOwned):
    """One HTTP request of a delivery, kept for the integrator to debug their receiver."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts")
    at = models.DateTimeField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=255, blank=True)
    response_body = models.CharField(max_length=1000, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["at", "id"]
