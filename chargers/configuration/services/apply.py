"""Writes of apply runs: a template applied to one charger, some or all it matches, through
the command path. The run is recorded and answered at once; a task sends each charger its
commands without waiting (1.6: ChangeConfiguration per key; 2.0.1: one SetVariables, which the
consumer splits as the charger's ItemsPerMessage asks), and each command's outcome, heard as
`command.finished`, is recorded per setting. A charger's drift is recomputed once all its
commands are answered: accepted values count as held (the command record keeps them), values
the charger takes only after a restart stay drift, marked so, until it has restarted."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from chargers.configuration import selectors, texts
from chargers.configuration.desired import attribute_of
from chargers.configuration.models import (
    FINISHED_RESULTS,
    ApplyCommand,
    ApplyResult,
    ApplyRun,
    ConfigTemplate,
    Protocol,
    ResultState,
    RunState,
)
from chargers.configuration.services.drift import drift_refresh
from chargers.models import Charger, Command, CommandStatus
from chargers.ocpp import builders, readers
from chargers.services.commands import UNFINISHED
from cpms.audit import services as audit
from cpms.audit.models import ObjectType, Verb
from cpms.handoff import queue_task
from cpms.models import User
from cpms.texts import english

# A charger's state from its settings' outcomes: the first found in this order.
WORST_FIRST = (
    ResultState.FAILED,
    ResultState.OFFLINE,
    ResultState.TIMED_OUT,
    ResultState.REJECTED,
    ResultState.NOT_SUPPORTED,
    ResultState.REBOOT_REQUIRED,
    ResultState.ACCEPTED,
)
# A command that was not answered: what each of its settings counts as.
UNANSWERED = {
    CommandStatus.OFFLINE: ResultState.OFFLINE,
    CommandStatus.TIMEOUT: ResultState.TIMED_OUT,
    CommandStatus.CALL_ERROR: ResultState.FAILED,
    CommandStatus.REFUSED: ResultState.FAILED,
}


@transaction.atomic
def apply_run_start(
    *,
    template: ConfigTemplate,
    chargers: Iterable[Charger] | None = None,
    requested_by: User | None = None,
) -> ApplyRun:
    """Record a run of `template` on `chargers` (None: every charger it matches) and queue
    its sending; returns the run, to be polled."""
    matching = selectors.chargers_of(template)
    if chargers is None:
        targets = list(matching)
    else:
        targets = list(chargers)
        allowed = set(matching.filter(pk__in=[c.pk for c in targets]).values_list("pk", flat=True))
        strangers = [c.identity for c in targets if c.pk not in allowed]
        if strangers:
            raise ValidationError(
                {
                    "chargers": gettext("The template does not apply to %(chargers)s.")
                    % {"chargers": ", ".join(strangers[:5])}
                }
            )
    if not targets:
        raise ValidationError({"chargers": gettext("The template applies to no charger.")})
    run = ApplyRun.objects.create(template=template, requested_by=requested_by)
    chosen = {c.pk: c for c in targets}
    ApplyResult.objects.bulk_create(
        ApplyResult(tenant_id=run.tenant_id, run=run, charger=charger)
        for charger in chosen.values()
    )
    audit.record(
        action=Verb.APPLY,
        object_type=ObjectType.CONFIG_TEMPLATE,
        target=template,
        changes={
            "run": {"before": None, "after": run.pk},
            "chargers": {"before": None, "after": sorted(c.identity for c in chosen.values())},
        },
    )
    from chargers.configuration.tasks import dispatch_run

    tenant_id = run.tenant_id
    transaction.on_commit(lambda: queue_task(dispatch_run, tenant_id=tenant_id, run_id=run.pk))
    return run


def apply_run_dispatch(*, run_id: int) -> int:
    """Send every pending charger of the run its commands; returns how many were sent to."""
    pending = ApplyResult.objects.filter(run_id=run_id, state=ResultState.PENDING)
    sent = 0
    for result_id in pending.values_list("pk", flat=True):
        sent += apply_result_dispatch(result_id=result_id)
    return sent


def apply_result_dispatch(*, result_id: int) -> int:
    """Send one charger of a run its commands, once; returns 1 when something was sent."""
    with transaction.atomic():
        result = (
            ApplyResult.objects.select_for_update(of=("self",))
            .select_related("run__template", "charger")
            .filter(pk=result_id, state=ResultState.PENDING)
            .first()
        )
        if result is None:
            return 0
        template, charger = result.run.template, result.charger
        mine = [
            wanted
            for wanted in selectors.desired_for(charger).values()
            if wanted.template_id == template.pk
        ]
        if not mine:
            matches = template.pk in {t.pk for t in selectors.templates_for(charger)}
            result.state = ResultState.NOTHING
            why = texts.GOVERNED_ELSEWHERE() if matches else texts.NO_LONGER_MATCHES()
            result.detail, result.detail_text = english(why), why
            result.finished_at = timezone.now()
            result.save()
            _finish_run_if_done(result.run_id)
            return 0
        result.items = [
            {"setting": w.setting, "value": w.value, "status": ResultState.SENT} for w in mine
        ]
        # Committed before anything leaves: a retried task does not send twice.
        result.state = ResultState.SENT
        result.save()
    requested_by = result.run.requested_by
    if template.protocol == Protocol.V201:
        values = [(attribute_of(w.entry), w.value) for w in mine]
        sends = [([w.setting for w in mine], builders.set_variables(charger, values=values))]
    else:
        sends = [
            ([w.setting], builders.change_configuration(charger, key=w.setting, value=w.value))
            for w in mine
        ]
    for settings, request in sends:
        command = builders.perform(
            charger, request, wait=False, source="configuration", requested_by=requested_by
        )
        ApplyCommand.objects.create(
            tenant_id=result.tenant_id, result=result, command=command, settings=settings
        )
        command.refresh_from_db()
        if command.status not in UNFINISHED:
            apply_command_finished(command_id=command.pk)
    return 1


@transaction.atomic
def apply_command_finished(*, command_id: int, now: datetime | None = None) -> bool:
    """Record the outcome of one of a run's commands, once; returns whether it was one. The
    charger's result is settled when its last command is, and its drift recomputed."""
    now = now or timezone.now()
    link = (
        ApplyCommand.objects.select_for_update(of=("self",))
        .select_related("command")
        .filter(command_id=command_id, finished_at__isnull=True)
        .first()
    )
    if link is None or link.command.status in UNFINISHED:
        return False
    link.statuses = _statuses(link.command, len(link.settings))
    link.finished_at = now
    link.save()
    result = ApplyResult.objects.select_for_update().get(pk=link.result_id)
    said = dict(zip(link.settings, link.statuses, strict=True))
    result.items = [
        {**item, "status": said.get(item["setting"], item["status"])} for item in result.items
    ]
    if link.command.error:
        result.detail, result.detail_text = link.command.error[:255], None
    states = {item["status"] for item in result.items}
    # Settled once every setting has its answer: the commands of a result are linked one by
    # one as they leave, so "no unanswered command yet" does not mean "all answered".
    if ResultState.SENT not in states:
        result.state = next(s for s in WORST_FIRST if s in states)
        result.finished_at = now
        result.save()
        drift_refresh(charger_id=result.charger_id, now=now)
        _finish_run_if_done(result.run_id, now=now)
    else:
        result.save()
    return True


def _statuses(command: Command, count: int) -> list[str]:
    if command.status != CommandStatus.ANSWERED:
        return [UNANSWERED.get(CommandStatus(command.status), ResultState.FAILED)] * count
    said = readers.change_outcomes(command.action, command.payload, command.response)
    # A reply that names fewer settings than were sent leaves the rest unanswered.
    return [*said, *[ResultState.FAILED] * (count - len(said))][:count]


def _finish_run_if_done(run_id: int, now: datetime | None = None) -> None:
    open_results = ApplyResult.objects.filter(run_id=run_id).exclude(state__in=FINISHED_RESULTS)
    if not open_results.exists():
        ApplyRun.objects.filter(pk=run_id, state=RunState.RUNNING).update(
            state=RunState.DONE, finished_at=now or timezone.now()
        )
