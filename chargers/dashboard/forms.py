from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from chargers import credentials
from chargers.models import Charger, IdToken, SecurityProfile
from chargers.ocpp import builders
from chargers.ocpp.variables import ATTRIBUTE_TYPES
from chargers.services import fleet_settings
from chargers.tags import TagsField
from cpms.forms import TenantModelForm


class IdTokenForm(TenantModelForm):
    class Meta:
        model = IdToken
        fields = ["uid", "type", "label", "group", "blocked", "expires_at"]
        labels = {
            "type": _("Type"),
            "label": _("Label"),
            "group": _("Group"),
            "blocked": _("Blocked"),
            "expires_at": _("Expires at"),
        }
        widgets = {"expires_at": forms.DateTimeInput(attrs={"type": "datetime-local"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            group = cast(forms.ModelChoiceField, self.fields["group"])
            group.queryset = IdToken.objects.exclude(pk=self.instance.pk)


class TagsForm(forms.Form):
    """The charger page's tag form (only the tags: the rest of the charger stays)."""

    tags = TagsField()


class ChargerForm(TenantModelForm):
    """A charger the tenant expects: its charge point id, where it stands and its tags. The
    rest (vendor, model, firmware...) the charger reports itself."""

    tags = TagsField()

    class Meta:
        model = Charger
        fields = ["identity", "site", "tags"]
        labels = {"site": _("Site")}
        help_texts = {
            "identity": _("As configured on the charger; it connects to /ocpp/<tenant>/<this id>."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # The id is how the charger introduces itself; a new id is a new charger.
            self.fields["identity"].disabled = True


class ChargerPasswordField(forms.CharField):
    """A charger's basic-auth password as the charger rules want it; empty means "generate
    one"."""

    def __init__(self, **kwargs):
        super().__init__(
            max_length=40, required=False, widget=forms.PasswordInput(render_value=False), **kwargs
        )

    def validate(self, value):
        super().validate(value)
        problem = credentials.validate(value) if value else None
        if problem:
            raise forms.ValidationError(problem)


class NewChargerForm(ChargerForm):
    password = ChargerPasswordField(
        help_text=_(
            "The charger's basic-auth password, 16 to 40 characters; leave empty to "
            "generate a strong one (shown once)."
        )
    )


# --- Operator commands on a charger ---------------------------------------------------------------


class CommandForm(forms.Form):
    """One form for every command button; each action reads the fields it needs.

    `build` turns the form into a version-neutral `builders.Request`, so validation lives in
    `chargers.ocpp.builders` and the messages name the field at fault.
    """

    ACTIONS = [
        ("remote_start", _("Remote start")),
        ("remote_stop", _("Remote stop")),
        ("reset_soft", _("Soft reset")),
        ("reset_hard", _("Hard reset")),
        ("unlock", _("Unlock connector")),
        ("available", _("Make available")),
        ("unavailable", _("Make unavailable")),
        ("trigger", _("Trigger message")),
        ("clear_cache", _("Clear cache")),
        ("get_diagnostics", _("Get diagnostics")),
        ("composite_schedule", _("Get composite schedule")),
        ("charging_profiles", _("List charging profiles")),
    ]

    action = forms.ChoiceField(choices=ACTIONS)
    evse_id = forms.IntegerField(min_value=0, max_value=1000, required=False, label=_("Connector"))
    id_tag = forms.CharField(max_length=36, required=False, label=_("Id token"))
    transaction_id = forms.CharField(max_length=36, required=False)
    message = forms.ChoiceField(
        choices=[(m, m) for m in builders.TRIGGERABLE], required=False, label=_("Message")
    )
    location = forms.CharField(max_length=500, required=False, label=_("Upload location"))
    duration = forms.IntegerField(
        min_value=1, max_value=7 * 24 * 3600, required=False, label=_("Duration (s)")
    )
    unit = forms.ChoiceField(
        choices=[("", "the charger's"), *((u, u) for u in builders.RATE_UNITS)],
        required=False,
        label=_("Unit"),
    )

    def build(self, charger) -> builders.Request:
        data = self.cleaned_data
        action, evse_id = data["action"], data.get("evse_id")
        by_action = {
            "remote_start": lambda: builders.remote_start(
                charger, id_tag=data["id_tag"], evse_id=evse_id
            ),
            "remote_stop": lambda: builders.remote_stop(
                charger, transaction_id=data["transaction_id"]
            ),
            "reset_soft": lambda: builders.reset(charger, hard=False),
            "reset_hard": lambda: builders.reset(charger, hard=True),
            "unlock": lambda: builders.unlock(charger, evse_id=evse_id or 0),
            "available": lambda: builders.set_availability(
                charger, operative=True, evse_id=evse_id or 0
            ),
            "unavailable": lambda: builders.set_availability(
                charger, operative=False, evse_id=evse_id or 0
            ),
            "trigger": lambda: builders.trigger(charger, message=data["message"], evse_id=evse_id),
            "clear_cache": lambda: builders.clear_cache(charger),
            "get_diagnostics": lambda: builders.get_diagnostics(charger, location=data["location"]),
            "composite_schedule": lambda: builders.composite_schedule(
                charger,
                evse_id=evse_id or 0,
                duration_s=data.get("duration") or 3600,
                unit=data.get("unit") or "",
            ),
            "charging_profiles": lambda: builders.charging_profiles(charger, evse_id=evse_id),
        }
        return by_action[action]()


class ConfigurationForm(forms.Form):
    key = forms.CharField(max_length=200)
    value = forms.CharField(max_length=500, required=False)


class VariableForm(forms.Form):
    """One 2.0.1 device-model attribute to set, named as the charger reported it."""

    component = forms.CharField(max_length=50)
    component_instance = forms.CharField(max_length=50, required=False, label=_("Instance"))
    evse_id = forms.IntegerField(min_value=0, max_value=1000, required=False, label=_("EVSE"))
    connector_id = forms.IntegerField(
        min_value=0, max_value=1000, required=False, label=_("Connector")
    )
    variable = forms.CharField(max_length=50)
    variable_instance = forms.CharField(max_length=50, required=False, label=_("Variable instance"))
    attribute_type = forms.ChoiceField(choices=[(t, t) for t in ATTRIBUTE_TYPES], initial="Actual")
    # OCPP 2.0.1 limits attributeValue to 1000 characters.
    value = forms.CharField(max_length=1000, required=False, strip=False)

    def build(self, charger, *, read: bool = False) -> builders.Request:
        """SetVariables with the value, or with `read` a GetVariables of the same attribute."""
        data = self.cleaned_data
        attribute = builders.AttributeName(
            component=data["component"],
            variable=data["variable"],
            attribute_type=data["attribute_type"],
            evse_id=data["evse_id"] or 0,
            connector_id=data["connector_id"] or 0,
            component_instance=data["component_instance"],
            variable_instance=data["variable_instance"],
        )
        if read:
            return builders.get_variable(charger, **attribute)
        return builders.set_variable(charger, value=data["value"], **attribute)


class PasswordForm(forms.Form):
    password = ChargerPasswordField(
        help_text=_("16 to 40 characters; leave empty to generate a strong one.")
    )


class SecurityProfileForm(forms.Form):
    security_profile = forms.TypedChoiceField(
        choices=SecurityProfile.choices,
        coerce=int,
        help_text=_(
            "3: the charger connects through the TLS proxy with a client certificate of "
            "your charger CA whose CN is its charge point id; no password."
        ),
    )
    certificate_fingerprint = forms.CharField(
        required=False,
        max_length=200,
        label=_("Pinned certificate (SHA-256)"),
        help_text=_(
            "Optional, profile 3 only: accept just this certificate "
            "(openssl x509 -noout -fingerprint -sha256)."
        ),
    )

    def clean_certificate_fingerprint(self):
        try:
            return credentials.normalize_fingerprint(self.cleaned_data["certificate_fingerprint"])
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None


class IdTokenImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "Columns: uid (required), type, label, group, blocked, expires_at "
            "(YYYY-MM-DD or ISO 8601). A header row is required."
        ),
    )


class FleetSettingsForm(forms.Form):
    heartbeat_interval = forms.IntegerField(
        min_value=fleet_settings.HEARTBEAT_SECONDS[0],
        max_value=fleet_settings.HEARTBEAT_SECONDS[1],
        help_text=_("Seconds between heartbeats; chargers get it in the reply to their next boot."),
    )
    offline_after_heartbeats = forms.IntegerField(
        min_value=fleet_settings.OFFLINE_AFTER_HEARTBEATS[0],
        max_value=fleet_settings.OFFLINE_AFTER_HEARTBEATS[1],
        help_text=_(
            "A connected charger silent for this many heartbeat intervals counts as offline."
        ),
    )
    version_change = forms.ChoiceField(
        label=_("A charger comes back speaking another OCPP version"),
        choices=list(fleet_settings.VERSION_CHANGE_POLICIES.items()),
    )
    close_sessions_after_hours = forms.IntegerField(
        label=_("Close sessions left open after (hours)"),
        required=False,
        min_value=fleet_settings.STALE_SESSION_HOURS[0],
        max_value=fleet_settings.STALE_SESSION_HOURS[1],
        help_text=_(
            "A session its charger has said nothing of for this long (no meter values, no "
            "stop) is closed by the server at its last reading and flagged; a stop the charger "
            "sends later replaces it. Empty or 0: never."
        ),
    )

    def clean_close_sessions_after_hours(self) -> int:
        # Empty means never, like 0 (the service reads None as "keep").
        return self.cleaned_data["close_sessions_after_hours"] or 0


class OnboardingForm(forms.Form):
    password = ChargerPasswordField(
        label=_("Onboarding password"),
        help_text=_(
            "16 to 40 characters; leave empty to generate a strong one. It replaces the "
            "current one."
        ),
    )
