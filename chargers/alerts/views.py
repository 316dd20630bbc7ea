import zoneinfo

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from chargers.access import MANAGE_ALERT_RULES
from chargers.alerts import services
from chargers.alerts.exports import alerts_csv
from chargers.alerts.forms import AcknowledgeForm, AlertRuleForm
from chargers.alerts.models import (
    DEFAULT_SEVERITY,
    DEFAULT_THRESHOLD,
    Alert,
    AlertKind,
    AlertRule,
    Severity,
)
from chargers.alerts.selectors import FILTERS, alert_table
from cpms.exports import export_filename, refused
from cpms.paging import pager_params
from cpms.tenancy.access import operator_view


@operator_view()
def alert_list(request):
    show = request.GET.get("show", "open")
    kind = request.GET.get("kind", "")
    severity = request.GET.get("severity", "")
    alerts = alert_table(show=show, kind=kind, severity=severity)
    page = Paginator(alerts, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "alerts/alert_list.html",
        {
            "page": page,
            "params": pager_params(request.GET),
            "show": show,
            "kind": kind,
            "severity": severity,
            "kinds": AlertKind.choices,
            "severities": Severity.choices,
        },
    )


@operator_view()
def alert_export(request):
    """The alerts the list shows, as its filters ask, as CSV; an unknown filter value is a 400
    naming the filter rather than a silently wider file."""
    problem = refused(request.GET, FILTERS)
    if problem:
        return HttpResponseBadRequest(problem, content_type="text/plain; charset=utf-8")
    alerts = alert_table(
        show=request.GET.get("show", "open").strip() or "open",
        kind=request.GET.get("kind", "").strip(),
        severity=request.GET.get("severity", "").strip(),
    )
    return alerts_csv(
        alerts,
        tz=zoneinfo.ZoneInfo(request.tenant.timezone),
        tenant=request.tenant,
        filename=export_filename("alerts", request.tenant),
    )


@operator_view()
def alert_detail(request, pk: int):
    alert = get_object_or_404(Alert.objects.select_related("charger", "session"), pk=pk)
    form = AcknowledgeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.alert_acknowledge(
                alert=alert, user=request.user, note=form.cleaned_data["note"]
            )
        except ValueError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Alert acknowledged."))
            return redirect("alert_detail", tenant_slug=request.tenant.slug, pk=alert.pk)
    return render(request, "alerts/alert_detail.html", {"alert": alert, "form": form})


@operator_view(read=MANAGE_ALERT_RULES, write=MANAGE_ALERT_RULES)
def alert_rules(request):
    existing = {r.kind: r for r in AlertRule.objects.prefetch_related("notify")}
    forms = []
    for kind in AlertKind.values:
        rule = existing.get(kind)
        initial = (
            {
                "enabled": rule.enabled,
                "severity": rule.severity,
                "threshold_minutes": rule.threshold_minutes,
                "never_stopped_hours": rule.never_stopped_hours,
                "notify": list(rule.notify.all()),
            }
            if rule
            else {
                "enabled": True,
                "severity": DEFAULT_SEVERITY[kind],
                "threshold_minutes": DEFAULT_THRESHOLD.get(kind),
                "never_stopped_hours": 24,
            }
        )
        data = request.POST if request.method == "POST" else None
        forms.append(AlertRuleForm(data, initial=initial, kind=kind, prefix=kind))
    if request.method == "POST" and all(f.is_valid() for f in forms):
        with transaction.atomic():
            for form in forms:
                services.alert_rule_set(kind=form.kind, **form.cleaned_data)
        messages.success(request, _("Alert rules saved."))
        return redirect("alert_rules", tenant_slug=request.tenant.slug)
    return render(request, "alerts/alert_rules.html", {"forms": forms})
