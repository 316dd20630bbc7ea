"""The configuration pages: templates with their entries and the chargers they match (with
each one's drift), the template form, applying a template, and an apply run's results. A
charger's own settings are a section of its page (`templatetags/configuration.py`). Roles come
from `chargers.configuration.access`."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from chargers.configuration import access, selectors
from chargers.configuration.desired import format_lines
from chargers.configuration.forms import ApplyForm, TemplateForm
from chargers.configuration.models import ApplyResult, ApplyRun, ConfigTemplate
from chargers.configuration.services import apply as apply_services
from chargers.configuration.services import templates as template_services
from cpms.forms import form_page, save_with
from cpms.paging import pager_params
from cpms.tenancy.access import operator_view, role_at_least


@operator_view(read=access.READ, write=access.MANAGE_TEMPLATES)
def template_list(request):
    templates = ConfigTemplate.objects.select_related("site").prefetch_related("entries")
    return render(
        request,
        "configuration/template_list.html",
        {
            "templates": templates,
            "runs": ApplyRun.objects.select_related("template")[:10],
            "can_manage": role_at_least(request, access.MANAGE_TEMPLATES),
        },
    )


@operator_view(read=access.MANAGE_TEMPLATES, write=access.MANAGE_TEMPLATES)
def template_create(request):
    form = TemplateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        template = save_with(form, template_services.template_create, **form.cleaned_data)
        if template is not None:
            messages.success(request, gettext("Template saved; drift is being compared."))
            return redirect(
                "config_template_detail", tenant_slug=request.tenant.slug, pk=template.pk
            )
    return form_page(
        request,
        form,
        title=gettext("Configuration template"),
        instance=None,
        cancel="config_template_list",
    )


@operator_view(read=access.MANAGE_TEMPLATES, write=access.MANAGE_TEMPLATES)
def template_edit(request, pk: int):
    template = get_object_or_404(ConfigTemplate.objects.prefetch_related("entries"), pk=pk)
    initial = {
        "name": template.name,
        "protocol": template.protocol,
        "vendor": template.vendor,
        "model": template.model,
        "site": template.site_id,
        "entries": format_lines(template.entries.all()),
    }
    form = TemplateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        saved = save_with(
            form, template_services.template_update, template=template, **form.cleaned_data
        )
        if saved is not None:
            messages.success(request, gettext("Template saved; drift is being compared again."))
            return redirect("config_template_detail", tenant_slug=request.tenant.slug, pk=pk)
    return form_page(
        request,
        form,
        title=gettext("Configuration template"),
        instance=template,
        cancel="config_template_list",
    )


@operator_view(read=access.MANAGE_TEMPLATES, write=access.MANAGE_TEMPLATES)
@require_POST
def template_delete(request, pk: int):
    template = get_object_or_404(ConfigTemplate, pk=pk)
    template_services.template_delete(template=template)
    messages.success(request, gettext("Template “%(name)s” deleted.") % {"name": template.name})
    return redirect("config_template_list", tenant_slug=request.tenant.slug)


@operator_view(read=access.READ, write=access.APPLY)
def template_detail(request, pk: int):
    template = get_object_or_404(
        ConfigTemplate.objects.select_related("site").prefetch_related("entries"), pk=pk
    )
    chargers = selectors.chargers_of(template).select_related("site").order_by("identity")
    page = Paginator(chargers, 50).get_page(request.GET.get("page"))
    counts = selectors.drift_counts(charger.pk for charger in page)
    return render(
        request,
        "configuration/template_detail.html",
        {
            "template": template,
            "page": page,
            "params": pager_params(request.GET),
            "rows": [(charger, counts.get(charger.pk, 0)) for charger in page],
            "runs": template.runs.all()[:10],
            "can_manage": role_at_least(request, access.MANAGE_TEMPLATES),
            "can_apply": role_at_least(request, access.APPLY),
        },
    )


@operator_view(read=access.APPLY, write=access.APPLY)
@require_POST
def template_apply(request, pk: int):
    template = get_object_or_404(ConfigTemplate, pk=pk)
    form = ApplyForm(request.POST, chargers=selectors.chargers_of(template))
    if not form.is_valid():
        messages.error(request, " ".join(str(m) for e in form.errors.values() for m in e))
        return redirect("config_template_detail", tenant_slug=request.tenant.slug, pk=pk)
    chosen = None if form.cleaned_data["all"] else list(form.cleaned_data["chargers"])
    try:
        run = apply_services.apply_run_start(
            template=template, chargers=chosen, requested_by=request.user
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("config_template_detail", tenant_slug=request.tenant.slug, pk=pk)
    messages.success(request, gettext("Sent; each charger's answer appears here as it comes."))
    return redirect("config_apply_run", tenant_slug=request.tenant.slug, pk=run.pk)


@operator_view(read=access.READ)
def run_detail(request, pk: int):
    results = Prefetch("results", queryset=ApplyResult.objects.select_related("charger"))
    run = get_object_or_404(
        ApplyRun.objects.select_related("template", "requested_by").prefetch_related(results),
        pk=pk,
    )
    return render(request, "configuration/run_detail.html", {"run": run})
