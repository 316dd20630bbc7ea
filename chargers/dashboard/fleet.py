"""Operator pages of the fleet: the chargers table, a charger's page and its commands."""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from chargers import commands
from chargers.access import MANAGE_CHARGERS
from chargers.alerts.models import Alert
from chargers.configuration.selectors import drift_counts
from chargers.dashboard.forms import (
    ChargerForm,
    CommandForm,
    ConfigurationForm,
    NewChargerForm,
    PasswordForm,
    SecurityProfileForm,
    TagsForm,
    VariableForm,
)
from chargers.exports import chargers_csv
from chargers.models import (
    Charger,
    Command,
    CommandStatus,
    ConnectionEvent,
    Connector,
    OcppMessage,
    OcppVersion,
    RegistrationStatus,
    SessionState,
)
from chargers.ocpp import builders, profiles, readers
from chargers.selectors.chargers import charger_firmware_update
from chargers.selectors.energy import active_sessions, energy_summary, session_series
from chargers.selectors.fleet import (
    State,
    TableQuery,
    charger_table,
    filter_choices,
    fleet_counts,
    refused_filter,
    site_choices,
    with_state,
)
from chargers.services import chargers as charger_services
from chargers.services.device_model import AttributeId
from cpms import once
from cpms.exports import export_filename
from cpms.forms import form_page, save_with
from cpms.languages import figure
from cpms.models import Role
from cpms.paging import DeferredPaginator, pager_params
from cpms.tenancy.access import operator_view, role_at_least

# The charger's time to answer a command sent from a page. Nobody waits for it: the page shows
# the outcome when it is recorded, a timeout included.
COMMAND_TIMEOUT = 15.0
PAGE_SIZE = 50


def tenant_tz(request, site=None) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo((site.timezone if site else None) or request.tenant.timezone)


@operator_view()
def live_fleet_counts(request):
    """The overview's figures as JSON, re-read by the live page when an event arrives."""
    energy = energy_summary(tenant_tz(request))
    return JsonResponse(
        {
            **fleet_counts(),
            "active_sessions": active_sessions().count(),
            "open_alerts": Alert.objects.filter(resolved_at__isnull=True).count(),
            # As the page first shows them (the `kwh` filter): two decimals, grouped thousands.
            "energy_today_kwh": figure(energy["today_wh"] / 1000),
            "energy_month_kwh": figure(energy["month_wh"] / 1000),
        }
    )


@operator_view()
def charger_states(request):
    """{charger id: state} for the chargers a live page shows, re-read when one changes."""
    ids = [int(x) for x in request.GET.get("ids", "").split(",") if x.isdigit()][: PAGE_SIZE * 2]
    chargers = with_state(Charger.objects.filter(pk__in=ids))
    return JsonResponse({str(pk): state for pk, state in chargers.values_list("pk", "state")})


@operator_view()
def charger_names(request):
    """{charger id: charge point id}, for the live feed's lines about chargers this page does
    not show (events name chargers by their database id)."""
    ids = [int(x) for x in request.GET.get("ids", "").split(",") if x.isdigit()][: PAGE_SIZE * 2]
    names = Charger.objects.filter(pk__in=ids).values_list("pk", "identity")
    return JsonResponse({str(pk): identity for pk, identity in names})


@operator_view()
def charger_export(request):
    """The chargers the list shows, filtered and sorted as it is, with their fleet state, as
    CSV; a filter value the list cannot apply is a 400 naming the filter."""
    problem = refused_filter(request.GET)
    if problem:
        return HttpResponseBadRequest(problem, content_type="text/plain; charset=utf-8")
    return chargers_csv(
        charger_table(TableQuery.from_request(request.GET)),
        tz=tenant_tz(request),
        tenant=request.tenant,
        filename=export_filename("chargers", request.tenant),
    )


@operator_view()
def charger_list(request):
    query = TableQuery.from_request(request.GET)
    page = DeferredPaginator(charger_table(query), PAGE_SIZE).get_page(request.GET.get("page"))
    drift = drift_counts(charger.pk for charger in page)
    for charger in page:
        charger.drift_count = drift.get(charger.pk, 0)
    return render(
        request,
        "chargers/charger_list.html",
        {
            "page": page,
            "query": query,
            "params": pager_params(request.GET),
            "sites": site_choices(),
            "states": State.LABELS,
            "choices": filter_choices(),
            "versions": OcppVersion.choices,
            "tz": tenant_tz(request),
        },
    )


def _charger(pk: int) -> Charger:
    return get_object_or_404(with_state(Charger.objects.select_related("site")), pk=pk)


@operator_view()
def charger_detail(request, pk: int):
    charger = _charger(pk)
    tz = tenant_tz(request, charger.site)
    # Every running session, one card each: a charger with two connectors runs two at once.
    running = list(
        charger.sessions.filter(state=SessionState.ACTIVE).order_by("evse_id", "-started_at")
    )
    latest = max(running, key=lambda s: s.started_at) if running else None
    chart_session = latest or charger.sessions.order_by("-started_at").first()
    return render(
        request,
        "chargers/charger_detail.html",
        {
            "charger": charger,
            "tz": tz,
            "connectors": Connector.objects.filter(charger=charger),
            "running": running,
            "running_latest": latest,
            "chart_session": chart_session,
            "chart": session_series(chart_session, tz) if chart_session else None,
            "recent_sessions": charger.sessions.select_related("id_token")[:10],
            "connections": ConnectionEvent.objects.filter(charger=charger)[:10],
            **_command_log_of(charger, request.GET),
            "alerts": Alert.objects.filter(charger=charger, resolved_at__isnull=True),
            "command_form": CommandForm(),
            "is_v2": builders.is_v2(charger),
            "firmware_update": charger_firmware_update(charger),
            "can_command": role_at_least(request, Role.OPERATOR),
            "is_admin": role_at_least(request, Role.ADMIN),
        },
    )


@operator_view(read=Role.OPERATOR, write=Role.OPERATOR)
@require_POST
def charger_command(request, pk: int):
    charger = _charger(pk)
    form = CommandForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            # The label the operator saw next to the input (Connector, Id token...).
            label = form.fields[field].label if field in form.fields else None
            name = label or field.replace("_", " ")
            messages.error(request, f"{str(name).lower()}: {' '.join(map(str, errors))}")
        return redirect("charger_detail", tenant_slug=request.tenant.slug, pk=charger.pk)
    try:
        built = form.build(charger)
    except builders.ActionError as error:
        messages.error(request, str(error))
        return redirect("charger_detail", tenant_slug=request.tenant.slug, pk=charger.pk)
    _report(request, _send(request, charger, built))
    return redirect("charger_detail", tenant_slug=request.tenant.slug, pk=charger.pk)


def _send(request, charger: Charger, built: builders.Request) -> Command:
    """Record and send a command from a page without waiting for the charger: the page shows
    the outcome when it is recorded (`command.finished`, `command_outcome`)."""
    return builders.perform(
        charger,
        built,
        requested_by=request.user,
        source="dashboard",
        timeout=COMMAND_TIMEOUT,
        wait=False,
    )


def _report(request, command: Command) -> None:
    """Tell the operator the command is on its way, or what became of it if that is known
    already (an offline charger is known at once)."""
    if command.status in commands.UNFINISHED:
        messages.info(
            request,
            _("%(action)s sent; the charger's answer shows in the command log as it arrives.")
            % {"action": command.action},
        )
        return
    for level, text in outcome(command):
        messages.add_message(request, MESSAGE_LEVELS[level], f"{command.action}: {text}")


MESSAGE_LEVELS = {
    "info": messages.INFO,
    "success": messages.SUCCESS,
    "warning": messages.WARNING,
    "error": messages.ERROR,
}
# A command's status in the reader's language (the labels of CommandStatus stay English:
# other domains store them in records).
COMMAND_STATUS_WORDS = {
    CommandStatus.QUEUED: gettext_lazy("Queued"),
    CommandStatus.SENT: gettext_lazy("Sent, waiting for the reply"),
    CommandStatus.ANSWERED: gettext_lazy("Answered"),
    CommandStatus.CALL_ERROR: gettext_lazy("Charger answered with an error"),
    CommandStatus.TIMEOUT: gettext_lazy("No reply in time"),
    CommandStatus.OFFLINE: gettext_lazy("Charger offline"),
    CommandStatus.REFUSED: gettext_lazy("Refused before sending"),
}
# Commands a charger answers with reports of their own, sent in parts after its reply.
REPORTED_IN_PARTS = (readers.READ_REPORT, profiles.READ_PROFILES)
# Replies that say the charger did (or will do) what it was asked.
AGREEING_REPLIES = ("Accepted", "Scheduled", "Unlocked")


def outcome(command: Command) -> list[tuple[str, str]]:
    """What became of `command`, in words: (level, sentence) pairs, the level one of
    `MESSAGE_LEVELS`. One sentence per variable of an answered Set/GetVariables."""
    status = COMMAND_STATUS_WORDS.get(CommandStatus(command.status), command.get_status_display())
    if command.status in commands.UNFINISHED:
        return [("info", f"{status}.")]
    if command.status != CommandStatus.ANSWERED:
        detail = f" ({command.error})" if command.error else ""
        return [("error", f"{status}{detail}.")]
    results = _variable_results(command)
    if results:
        return [_variable_outcome(command, result) for result in results]
    if command.action == readers.READ_KEYS and isinstance(command.response, dict):
        sent = len(readers.configuration_keys(command.response))
        unknown = readers.unknown_keys(command.response)
        lines = [
            (
                "success",
                ngettext(
                    "The charger sent %(count)s key; reload the configuration to see them.",
                    "The charger sent %(count)s keys; reload the configuration to see them.",
                    sent,
                )
                % {"count": sent},
            )
        ]
        if unknown:
            lines.append(
                (
                    "warning",
                    _("Keys it does not know: %(keys)s.") % {"keys": ", ".join(map(str, unknown))},
                )
            )
        return lines
    reply = command.reply_status
    if not reply:
        return [("success", _("The charger answered."))]
    lines = [
        (
            "success" if reply in AGREEING_REPLIES else "warning",
            _("The charger replied %(reply)s.") % {"reply": reply},
        )
    ]
    if command.action in REPORTED_IN_PARTS and reply == "Accepted":
        lines.append(("info", _("The charger sends its report in parts; reload in a moment.")))
    if command.action == profiles.READ_COMPOSITE and reply == "Accepted":
        lines.append(("info", _("Its composite schedule shows under Charging limits.")))
    return lines


def _command_log_of(charger: Charger, query) -> dict:
    """The charger page's command log, filtered by `action` or without smart charging's
    profiles (`hide_profiles`), which otherwise bury every other command."""
    rows = Command.objects.filter(charger=charger)
    actions = sorted(set(rows.values_list("action", flat=True).order_by()))
    action = query.get("action", "")
    hide_profiles = query.get("hide_profiles") == "1"
    if action:
        rows = rows.filter(action=action)
    if hide_profiles:
        rows = rows.exclude(action__in=builders.CHARGING_PROFILE_ACTIONS)
    return {
        "commands": command_log(rows.select_related("requested_by")[:20]),
        "command_actions": actions,
        "command_action": action,
        "hide_profiles": hide_profiles,
        "commands_filtered": bool(action or hide_profiles),
    }


def command_log(rows: Iterable[Command]) -> list[Command]:
    """Commands for a page's command log, each with its `outcome` in words and whether it is
    still `pending` (the page's live script fills in the outcome when it is recorded)."""
    rows = list(rows)
    for command in rows:
        command.outcome = outcome(command)
        command.pending = command.status in commands.UNFINISHED
    return rows


@operator_view()
@require_safe
def command_outcome(request, pk: int):
    """A command's outcome in words, for the page that sent it; read again when
    `command.finished` names it, and now and then while it is pending."""
    command = get_object_or_404(Command.objects.all(), pk=pk)
    return JsonResponse(
        {
            "id": command.pk,
            "charger_id": command.charger_id,
            "action": command.action,
            "status": command.status,
            "finished": command.status not in commands.UNFINISHED,
            "duration_ms": command.duration_ms,
            "outcome": [{"level": level, "text": text} for level, text in outcome(command)],
        }
    )


def latest_configuration(charger: Charger) -> tuple[list[dict], Command | None]:
    """1.6 keys from the last answered read of them; the row is the record of when."""
    command = (
        Command.objects.filter(
            charger=charger, action=readers.READ_KEYS, status=CommandStatus.ANSWERED
        )
        .order_by("-completed_at")
        .first()
    )
    if command is None:
        return [], None
    keys = readers.configuration_keys(command.response)
    return [{"key": k.key, "value": k.value, "readonly": k.readonly} for k in keys], command


def _variable_results(command: Command) -> list[readers.VariableResult]:
    """What the charger said per attribute of an answered Set/GetVariables."""
    if command.status != CommandStatus.ANSWERED:
        return []
    return readers.variable_results(command.action, command.payload, command.response)


def _variable_outcome(command: Command, result: readers.VariableResult) -> tuple[str, str]:
    """Set/GetVariables answers per variable: Accepted, Rejected, RebootRequired, Unknown..."""
    reason = f" ({result.reason})" if result.reason else ""
    said = {"variable": result.attribute.label, "status": result.status, "reason": reason}
    if command.action == readers.READ_VARIABLES and result.status == "Accepted":
        value = result.value if result.value is not None else ""
        return "success", _(
            "%(variable)s: the charger replied %(status)s%(reason)s, value %(value)s."
        ) % {**said, "value": repr(value)}
    text = _("%(variable)s: the charger replied %(status)s%(reason)s.") % said
    if result.status == "Accepted":
        return "success", text
    if result.status == "RebootRequired":
        return "warning", text + " " + _("The new value applies after a reset.")
    return "warning", text


def _newest(charger: Charger, action: str, limit: int) -> Iterable[Command]:
    """The last `limit` commands of `action` sent to the charger, newest first."""
    return Command.objects.filter(charger=charger, action=action).order_by("-created_at")[:limit]


def last_variable_replies(charger: Charger, limit: int = 100) -> dict[AttributeId, dict]:
    """The newest reply to a change of each variable, from the recent changes sent."""
    replies: dict[AttributeId, dict] = {}
    for command in _newest(charger, readers.CHANGE_VARIABLES, limit):
        if command.status != CommandStatus.ANSWERED:
            for attribute in readers.variables_asked(command.action, command.payload):
                replies.setdefault(
                    attribute, {"status": command.get_status_display(), "at": command.created_at}
                )
            continue
        for result in _variable_results(command):
            replies.setdefault(
                result.attribute, {"status": result.status, "at": command.created_at}
            )
    return replies


def _variable_initial(charger: Charger, pk: str | None) -> dict:
    """The change form filled in for the variable whose "Change" link was followed."""
    if not pk or not pk.isdigit():
        return {}
    row = charger.variables.filter(pk=pk).first()
    if row is None:
        return {}
    return {
        "component": row.component,
        "component_instance": row.component_instance,
        "evse_id": row.evse_id or None,
        "connector_id": row.connector_id or None,
        "variable": row.variable,
        "variable_instance": row.variable_instance,
        "attribute_type": row.attribute_type,
        "value": row.value,
    }


def _key_initial(keys: list[dict], key: str | None) -> dict:
    """The 1.6 change form filled in for the key whose "Change" link was followed."""
    for entry in keys:
        if key and entry.get("key") == key and not entry.get("readonly"):
            return {"key": key, "value": entry.get("value", "")}
    return {}


def last_key_replies(charger: Charger, limit: int = 100) -> dict[str, dict]:
    """The newest reply to a ChangeConfiguration of each 1.6 key."""
    replies: dict[str, dict] = {}
    for command in _newest(charger, readers.CHANGE_KEY, limit):
        status = command.reply_status or command.get_status_display()
        key = readers.changed_key(command.action, command.payload)
        if key:
            replies.setdefault(key, {"status": status, "at": command.created_at})
    return replies


@operator_view(read=Role.VIEWER, write=Role.OPERATOR)
def charger_configuration(request, pk: int):
    """1.6 configuration keys (ChangeConfiguration) or the 2.0.1 device model (SetVariables)."""
    charger = _charger(pk)
    v2 = builders.is_v2(charger)
    form_class = VariableForm if v2 else ConfigurationForm
    keys, read = ([], None) if v2 else latest_configuration(charger)
    if request.method == "POST":
        form = form_class(request.POST)
    elif v2:
        form = form_class(initial=_variable_initial(charger, request.GET.get("variable")))
    else:
        form = form_class(initial=_key_initial(keys, request.GET.get("key")))
    if request.method == "POST":
        if request.POST.get("refresh"):
            _report(request, _send(request, charger, builders.get_configuration(charger)))
            return redirect("charger_configuration", tenant_slug=request.tenant.slug, pk=pk)
        if form.is_valid():
            try:
                if isinstance(form, VariableForm):
                    built = form.build(charger, read=bool(request.POST.get("read")))
                else:
                    built = builders.change_configuration(
                        charger, key=form.cleaned_data["key"], value=form.cleaned_data["value"]
                    )
            except builders.ActionError as error:
                form.add_error(None, str(error))
            else:
                _report(request, _send(request, charger, built))
                return redirect("charger_configuration", tenant_slug=request.tenant.slug, pk=pk)
    search = request.GET.get("q", "").strip()
    found = charger.variables.all()
    if search:
        found = found.filter(Q(component__icontains=search) | Q(variable__icontains=search))
    variables = list(found[:1000]) if v2 else []
    if variables:
        replies = last_variable_replies(charger)
        for row in variables:
            row.last_reply = replies.get(AttributeId.of(row))
    if keys:
        key_replies = last_key_replies(charger)
        keys = [{**k, "last_reply": key_replies.get(k["key"])} for k in keys]
    return render(
        request,
        "chargers/charger_configuration.html",
        {
            "charger": charger,
            "v2": v2,
            "keys": keys,
            "read": read,
            "variables": variables,
            "q": search,
            "form": form,
            "commands": command_log(
                Command.objects.filter(
                    charger=charger, action__in=readers.CONFIGURATION_ACTIONS
                ).select_related("requested_by")[:5]
            ),
            "tz": tenant_tz(request, charger.site),
            "can_edit": role_at_least(request, Role.OPERATOR),
        },
    )


@operator_view()
def charger_messages(request, pk: int):
    charger = _charger(pk)
    log = OcppMessage.objects.filter(charger=charger)
    action = request.GET.get("action", "").strip()
    if action:
        log = log.filter(action=action)
    page = Paginator(log, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "chargers/charger_messages.html",
        {
            "charger": charger,
            "page": page,
            "action": action,
            "params": pager_params(request.GET),
        },
    )


@never_cache
@operator_view(read=MANAGE_CHARGERS, write=MANAGE_CHARGERS)
def charger_create(request):
    """Add a charger before it first connects; its password is shown this once."""
    form = NewChargerForm(request.POST or None, tenant=request.tenant)
    if request.method == "POST" and form.is_valid():
        new = save_with(
            form,
            charger_services.charger_create,
            identity=form.cleaned_data["identity"],
            site=form.cleaned_data["site"],
            password=form.cleaned_data["password"] or None,
            tags=form.cleaned_data["tags"],
        )
        if new is not None:
            # Shown once on the page the creation redirects to: a reload adds no second charger.
            once.keep_for_one_display(
                request, _password_slot(new.charger), {"password": new.password, "new": True}
            )
            return redirect(
                "charger_credentials", tenant_slug=request.tenant.slug, pk=new.charger.pk
            )
    return form_page(request, form, title=_("charger"), instance=None, cancel="charger_list")


@operator_view(read=MANAGE_CHARGERS, write=MANAGE_CHARGERS)
def charger_edit(request, pk: int):
    """The charger's site and tags; the charger page's tag form posts its tags alone here."""
    charger = _charger(pk)
    if request.method == "POST" and request.POST.get("form") == "tags":
        return _save_tags(request, charger)
    form = ChargerForm(request.POST or None, instance=charger, tenant=request.tenant)
    if (
        request.method == "POST"
        and form.is_valid()
        and save_with(
            form,
            charger_services.charger_update,
            charger=charger,
            site=form.cleaned_data["site"],
            tags=form.cleaned_data["tags"],
        )
        is not None
    ):
        messages.success(request, _("%(identity)s saved.") % {"identity": charger.identity})
        return redirect("charger_detail", tenant_slug=request.tenant.slug, pk=charger.pk)
    return form_page(request, form, title=_("charger"), instance=charger, cancel="charger_list")


def _save_tags(request, charger: Charger):
    form = TagsForm(request.POST)
    if (
        form.is_valid()
        and save_with(
            form, charger_services.charger_update, charger=charger, tags=form.cleaned_data["tags"]
        )
        is not None
    ):
        messages.success(request, _("%(identity)s: tags saved.") % {"identity": charger.identity})
    for errors in form.errors.values():
        messages.error(request, f"{_('Tags')}: {' '.join(map(str, errors))}")
    return redirect("charger_detail", tenant_slug=request.tenant.slug, pk=charger.pk)


@never_cache
@operator_view(read=MANAGE_CHARGERS, write=MANAGE_CHARGERS)
def charger_credentials(request, pk: int):
    """Set or rotate the charger's basic-auth password (shown once), or its security profile."""
    charger = _charger(pk)
    form = PasswordForm()
    profile_form = SecurityProfileForm(
        initial={
            "security_profile": charger.security_profile,
            "certificate_fingerprint": charger.certificate_fingerprint,
        }
    )
    if request.method == "POST" and "security_profile" in request.POST:
        profile_form = SecurityProfileForm(request.POST)
        if (
            profile_form.is_valid()
            and save_with(
                profile_form,
                charger_services.charger_update,
                charger=charger,
                **profile_form.cleaned_data,
            )
            is not None
        ):
            messages.success(
                request, _("%(identity)s: security profile saved.") % {"identity": charger.identity}
            )
            return redirect("charger_credentials", tenant_slug=request.tenant.slug, pk=charger.pk)
    elif request.method == "POST":
        form = PasswordForm(request.POST)
        if form.is_valid():
            password = save_with(
                form,
                charger_services.charger_set_password,
                charger=charger,
                password=form.cleaned_data["password"] or None,
            )
            if password is not None:
                # Shown once after the redirect: a reload does not rotate it again.
                once.keep_for_one_display(request, _password_slot(charger), {"password": password})
                return redirect(
                    "charger_credentials", tenant_slug=request.tenant.slug, pk=charger.pk
                )
    shown = once.take(request, _password_slot(charger)) if request.method == "GET" else None
    return render(
        request,
        "chargers/charger_credentials.html",
        {
            "charger": charger,
            "form": form,
            "profile_form": profile_form,
            "password": shown["password"] if shown else None,
            "new": bool(shown and shown.get("new")),
        },
    )


def _password_slot(charger: Charger) -> str:
    return f"charger-password:{charger.pk}"


@operator_view(read=MANAGE_CHARGERS, write=MANAGE_CHARGERS)
@require_POST
def charger_registration(request, pk: int):
    charger = _charger(pk)
    decision = request.POST.get("status", "")
    if decision not in (RegistrationStatus.ACCEPTED, RegistrationStatus.REJECTED):
        messages.error(request, _("status: choose Accepted or Rejected."))
    else:
        charger_services.charger_set_registration(charger=charger, status=decision)
        done = (
            _("%(identity)s approved.")
            if decision == RegistrationStatus.ACCEPTED
            else _("%(identity)s rejected.")
        )
        messages.success(request, done % {"identity": charger.identity})
    return redirect("charger_detail", tenant_slug=request.tenant.slug, pk=charger.pk)
