"""A site's load management in the dashboard: the plan with a reason per connector, the tree
with its limits, and (for admins) the editor of the tree and the limits."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render

from chargers.models import Charger
from chargers.smart_charging import access, selectors, services
from chargers.smart_charging.forms import CircuitForm, GridConnectionForm, WindowForm, WiringForm
from chargers.smart_charging.models import (
    ChargerElectrical,
    Circuit,
    GridLimitWindow,
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


@operator_view(read=access.READ, write=access.MANAGE_LOAD_TREE)
def site_load(request, pk: int):
    site = get_object_or_404(Site, pk=pk)
    electrical = SiteElectrical.objects.filter(site=site).first()
    plan = selectors.plan_view(site)
    node_load = [(node, plan["load"].get(node["id"], {})) for node in plan["nodes"]]
    return render(
        request,
        "smart_charging/site_load.html",
        {
            "site": site,
            "electrical": electrical,
            "plan": plan,
            "node_load": node_load,
            "windows": GridLimitWindow.objects.filter(site=site),
            "signals": LimitSignal.objects.filter(site=site).order_by("-starts_at")[:10],
            **_tree(site),
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
        messages.success(request, "Saved; the site's plan is recomputed.")
        return redirect("site_load", tenant_slug=request.tenant.slug, pk=site.pk)
    return render(
        request,
        "smart_charging/site_load_edit.html",
        {
            "site": site,
            "electrical": electrical,
            "forms": [
                ("grid", "Grid connection", grid),
                ("circuit", "A circuit", circuit),
                ("wiring", "A charger's wiring", wiring),
                ("window", "A lower limit at certain hours", window),
            ],
            "failed": which,
            **tree,
        },
    )
