"""A site's load management in the dashboard: the plan with a reason per connector, the
current per phase over time, the tree with its limits and loads, what-if scenarios, and (for
admins) the editor of the tree and the limits."""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext

from chargers.models import Charger
from chargers.smart_charging import access, selectors, series, services, what_if
from chargers.smart_charging import allocation as alloc
from chargers.smart_charging.forms import (
    EV_PREFIX,
    EV_ROWS,
    MAX_EVS,
    BaseEvFormSet,
    CircuitForm,
    EvFormSet,
    GridConnectionForm,
    GroupPriorityForm,
    LoadWindowForm,
    WhatIfForm,
    WindowForm,
    WiringForm,
)
from chargers.smart_charging.models import (
    ChargerElectrical,
    Circuit,
    GridLimitWindow,
    GroupPriority,
    LimitSignal,
    SiteElectrical,
)
from cpms.forms import save_with
from cpms.models import Site
from cpms.tenancy.access import operator_view


def _tree(site: Site) -> dict:
    circuits = list(Circuit.objects.filter(site=site))
    wiring = {w.charger_id: w for w in ChargerElectrical.objects.filter(charger__site=site)}
    chargers = list(Charger.objects.filter(site=site).order_by("identity"))
    below: dict[int | None, list] = {}
    for charger in chargers:
        wired = wiring.get(charger.pk)
        below.setdefault(wired.circuit_id if wired else None, []).append((charger, wired))
    nodes = []

    def walk(parent, depth):
        for circuit in (c for c in circuits if c.parent_id == parent):
            nodes.append(
                {"circuit": circuit, "depth": depth, "chargers": below.get(circuit.pk, [])}
            )
            walk(circuit.pk, depth + 1)

    walk(None, 1)
    return {
        "circuits": circuits,
        "chargers": chargers,
        "nodes": nodes,
        "on_grid": below.get(None, []),
    }


def _node_rows(
    site: Site, electrical: SiteElectrical | None, tree: dict, plan: dict, now: datetime
) -> list[dict[str, Any]]:
    """The grid connection and each circuit, in tree order: its limit per phase (the grid's
    in force now, and where it comes from), and per phase it carries the current planned (by
    the latest plan) and measured (the sessions' newest readings) below it."""
    grid_a, source = None, ""
    if electrical is not None:
        grid_a, source = selectors.grid_limits(site, electrical, now).at(now)
    nodes = [(selectors.GRID, gettext("Grid connection"), 0, alloc.PHASES, grid_a, source)]
    for node in tree["nodes"]:
        circuit = node["circuit"]
        phases = selectors.phases_of(circuit.phases)
        limit = float(circuit.limit_a)
        nodes.append(
            (selectors.node_id(circuit.pk), circuit.name, node["depth"], phases, limit, "")
        )
    draws = selectors.node_draws(site, tree["circuits"], now)
    rows = []
    for node_id, name, depth, phases, limit_a, source in nodes:
        planned, measured = plan["load"].get(node_id, {}), draws.get(node_id, {})
        cells = [
            {
                "phase": p,
                "carried": p in phases,
                "planned": planned.get(p),
                "measured": measured.get(p),
            }
            for p in alloc.PHASES
        ]
        rows.append(
            {
                "id": node_id,
                "name": name,
                "depth": depth,
                "limit_a": limit_a,
                "source": source,
                "phases": cells,
            }
        )
    return rows


@operator_view(read=access.READ, write=access.MANAGE_LOAD_TREE)
def site_load(request, pk: int):
    site = get_object_or_404(Site, pk=pk)
    now = timezone.now()
    electrical = SiteElectrical.objects.filter(site=site).first()
    plan = selectors.plan_view(site)
    tree = _tree(site)
    window_form = LoadWindowForm(request.GET)
    window_key = window_form.chosen()
    chart = selectors.load_chart(site, series.WINDOWS[window_key], now)
    return render(
        request,
        "smart_charging/site_load.html",
        {
            "site": site,
            "electrical": electrical,
            "plan": plan,
            "node_rows": _node_rows(site, electrical, tree, plan, now),
            "windows": GridLimitWindow.objects.filter(site=site),
            "signals": LimitSignal.objects.filter(site=site).order_by("-starts_at")[:10],
            "window_form": window_form,
            "window_key": window_key,
            "window": series.WINDOWS[window_key],
            "window_choices": [(key, w.label) for key, w in series.WINDOWS.items()],
            "chart": chart if series.has_data(chart) else None,
            "phases": alloc.PHASES,
            **tree,
        },
    )


def _connector_label(inputs: selectors.SiteInputs, key: str) -> str:
    charger_id, evse_id = inputs.evses[key]
    return f"{inputs.chargers[charger_id].identity} · EVSE {evse_id}"


def _what_if_run(
    inputs: selectors.SiteInputs, form: WhatIfForm, formset: BaseEvFormSet, zone: ZoneInfo
) -> dict[str, Any] | None:
    """Allocate the scenario of a valid form and formset on the site's tree; None, with the
    reason on the form, when the allocator refuses it."""
    keep, grid_limit = form.cleaned_data["keep_sessions"], form.cleaned_data["grid_limit_a"]
    evs = formset.evs()
    problem = what_if.scenario(
        inputs.problem,
        evs,
        keep_sessions=keep,
        grid_limit_a=None if grid_limit is None else float(grid_limit),
    )
    try:
        plan = alloc.allocate(problem)
    except alloc.ProblemError as error:
        form.add_error(
            None, gettext("The site's tree cannot be planned: %(error)s.") % {"error": error}
        )
        return None
    labels = {ev.key: f"{ev.name}: {ev.where}" for ev in evs}
    if keep:
        current = {
            s.connector: _connector_label(inputs, s.connector) for s in inputs.problem.sessions
        }
        for key, label in sorted(current.items(), key=lambda item: item[1]):
            labels.setdefault(key, gettext("%(ev)s (charging now)") % {"ev": label})
    shown = what_if.outcome(
        problem,
        plan,
        labels,
        inputs.names,
        now=inputs.now,
        zone=zone,
        no_limit_a=selectors.NO_LIMIT_A,
    )
    return {
        **shown,
        "grid_limit_a": shown["nodes"][0]["limit_a"],
        "grid_source": gettext("as entered") if grid_limit is not None else inputs.grid_source,
        "sharing": problem.settings.sharing,
    }


@operator_view(read=access.READ, write=access.READ)
def site_load_what_if(request, pk: int):
    """The allocator on the site's tree with EVs an operator enters. Nothing is stored and
    nothing is sent, so whoever may read the plan may ask (the POST only carries the form)."""
    site = get_object_or_404(Site, pk=pk)
    # A site without a grid connection yet is planned as it would be with the defaults.
    grid = SiteElectrical.objects.filter(site=site).first() or SiteElectrical(site=site)
    inputs = selectors.site_inputs(site, grid, timezone.now())
    places = what_if.places(
        inputs.problem,
        {key: _connector_label(inputs, key) for key in inputs.evses},
        # The grid connection's node named in the reader's language (the plan keeps its own).
        {**inputs.names, selectors.GRID: gettext("grid connection")},
        min_a=float(grid.min_current_a),
        max_a=selectors.DEFAULT_MAX_A,
    )
    zone = ZoneInfo(site.timezone)
    data = request.POST.copy() if request.method == "POST" else None
    more = data is not None and "more" in data
    if more and data is not None:
        # More rows: the same entries, with blank rows below them.
        total = data.get(f"{EV_PREFIX}-TOTAL_FORMS", "")
        if total.isdigit():
            data[f"{EV_PREFIX}-TOTAL_FORMS"] = str(min(int(total) + EV_ROWS, MAX_EVS))
    # Departures are typed in the site's time.
    with timezone.override(zone):
        form = WhatIfForm(data)
        # The checkbox says which connectors are taken, whatever else the form says.
        keep = bool(form["keep_sessions"].value())
        formset = EvFormSet(
            data,
            prefix=EV_PREFIX,
            keep_sessions=keep,
            form_kwargs={
                "places": places,
                "now": inputs.now,
                "busy": set(inputs.sessions) if keep else set(),
            },
        )
        result = None
        if data is not None and not more and form.is_valid() and formset.is_valid():
            result = _what_if_run(inputs, form, formset, zone)
    return render(
        request,
        "smart_charging/site_load_what_if.html",
        {
            "site": site,
            "inputs": inputs,
            "form": form,
            "formset": formset,
            "result": result,
            "phases": alloc.PHASES,
        },
    )


@operator_view(read=access.MANAGE_LOAD_TREE, write=access.MANAGE_LOAD_TREE)
def site_load_edit(request, pk: int):
    site = get_object_or_404(Site, pk=pk)
    electrical = SiteElectrical.objects.filter(site=site).first()
    tree = _tree(site)
    which = request.POST.get("form", "") if request.method == "POST" else ""
    data = request.POST if which else None

    grid = GridConnectionForm(
        data if which == "grid" else None,
        prefix="grid",
        initial={
            "managed": electrical.managed if electrical else True,
            "grid_limit_a": electrical.grid_limit_a if electrical else None,
            "sharing": electrical.sharing if electrical else "equal",
            "min_current_a": electrical.min_current_a if electrical else 6,
        },
    )
    circuit = CircuitForm(
        data if which == "circuit" else None, prefix="circuit", circuits=tree["circuits"]
    )
    wiring = WiringForm(
        data if which == "wiring" else None,
        prefix="wiring",
        chargers=tree["chargers"],
        circuits=tree["circuits"],
    )
    window = WindowForm(data if which == "window" else None, prefix="window")
    saved: object = None
    if which == "grid" and grid.is_valid():
        saved = save_with(grid, services.site_electrical_set, site=site, **grid.cleaned_data)
    elif which == "circuit" and circuit.is_valid():
        values = dict(circuit.cleaned_data)
        existing, parent_id = values.pop("circuit"), values.pop("parent")
        by_pk = {c.pk: c for c in tree["circuits"]}
        values["parent"] = by_pk.get(parent_id)
        if existing is not None:
            saved = save_with(circuit, services.circuit_update, circuit=by_pk[existing], **values)
        else:
            saved = save_with(circuit, services.circuit_create, site=site, **values)
    elif which == "wiring" and wiring.is_valid():
        values = dict(wiring.cleaned_data)
        charger = next(c for c in tree["chargers"] if c.pk == values.pop("charger"))
        values["circuit"] = next((c for c in tree["circuits"] if c.pk == values["circuit"]), None)
        saved = save_with(wiring, services.charger_electrical_set, charger=charger, **values)
    elif which == "window" and window.is_valid():
        saved = save_with(window, services.limit_window_create, site=site, **window.cleaned_data)
    if saved is not None:
        messages.success(request, gettext("Saved; the site's plan is recomputed."))
        return redirect("site_load", tenant_slug=request.tenant.slug, pk=site.pk)
    return render(
        request,
        "smart_charging/site_load_edit.html",
        {
            "site": site,
            "electrical": electrical,
            "forms": [
                ("grid", gettext("Grid connection"), grid),
                ("circuit", gettext("A circuit"), circuit),
                ("wiring", gettext("A charger's wiring"), wiring),
                ("window", gettext("A lower limit at certain hours"), window),
            ],
            "failed": which,
            **tree,
        },
    )


@operator_view(read=access.READ, write=access.MANAGE_PRIORITIES)
def load_priorities(request):
    """The priority of each id-token group's sessions, tenant-wide (a session's own, set by an
    operator or an integrator, comes first)."""
    form = GroupPriorityForm(request.POST if "group" in request.POST else None)
    if request.method == "POST" and "delete" in request.POST:
        given = request.POST["delete"]
        row = get_object_or_404(GroupPriority, pk=int(given) if given.isdigit() else 0)
        services.group_priority_delete(row=row)
        messages.success(
            request,
            gettext("Group %(group)s has no priority of its own now.") % {"group": row.group.uid},
        )
        return redirect("load_priorities", tenant_slug=request.tenant.slug)
    if form.is_valid():
        values = dict(form.cleaned_data)
        if save_with(form, services.group_priority_set, **values) is not None:
            messages.success(request, gettext("Saved; every managed site's plan is recomputed."))
            return redirect("load_priorities", tenant_slug=request.tenant.slug)
    rows = GroupPriority.objects.select_related("group").order_by("-priority", "group__uid")
    return render(request, "smart_charging/load_priorities.html", {"rows": rows, "form": form})
