"""The periodic sweep of commands nobody is waiting for any more: their sender's process died,
or they were sent without waiting and never polled."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from chargers import commands
from chargers.models import Charger, Command, CommandStatus
from chargers.services.commands import STALE_ERROR, command_create
from cpms.celery import app
from cpms.tenancy import scoping

SWEEP = settings.CELERY_BEAT_SCHEDULE["time-out-stale-commands"]["task"]


def sweep() -> int:
    """Run the task the beat schedule names, found the way a worker finds it."""
    app.loader.import_default_modules()
    return app.tasks[SWEEP]()


def command(tenant, *, age: timedelta, timeout: float = 30, status=CommandStatus.QUEUED):
    """A command created `age` ago, left in `status`."""
    with scoping.scope(tenant):
        charger = Charger.objects.get_or_create(identity="CP-1")[0]
        made = command_create(charger=charger, action="Reset", payload={}, timeout=timeout)
        Command.objects.filter(pk=made.pk).update(created_at=timezone.now() - age, status=status)
    return made


def reloaded(made: Command) -> Command:
    with scoping.unscoped():
        return Command.objects.get(pk=made.pk)


def test_a_command_nobody_waits_for_times_out_well_past_its_deadline(tenant_a):
    queued = command(tenant_a, age=timedelta(minutes=5))
    sent = command(tenant_a, age=timedelta(minutes=5), status=CommandStatus.SENT)
    assert sweep() == 2
    for made in (queued, sent):
        swept = reloaded(made)
        assert swept.status == CommandStatus.TIMEOUT
        assert swept.error == STALE_ERROR
        assert swept.completed_at is not None


def test_a_command_gets_its_own_timeout_before_it_is_given_up_on(tenant_a):
    # Two minutes old: past a 15 s command's deadline (35 s + margin), within a 60 s one's.
    short = command(tenant_a, age=timedelta(minutes=2), timeout=15)
    long = command(tenant_a, age=timedelta(minutes=2), timeout=60)
    assert sweep() == 1
    assert reloaded(short).status == CommandStatus.TIMEOUT
    assert reloaded(long).status == CommandStatus.QUEUED


def test_a_command_whose_sender_may_still_be_waiting_is_left_alone(tenant_a):
    # Past the sender's own deadline (65 s for 30 s), but not by the margin yet.
    recent = command(tenant_a, age=timedelta(seconds=90))
    assert sweep() == 0
    assert reloaded(recent).status == CommandStatus.QUEUED


def test_a_finished_command_keeps_its_outcome(tenant_a):
    answered = command(tenant_a, age=timedelta(hours=1), status=CommandStatus.ANSWERED)
    assert sweep() == 0
    assert reloaded(answered).status == CommandStatus.ANSWERED


def test_a_command_answered_while_the_sweep_runs_keeps_its_answer(tenant_a):
    made = command(tenant_a, age=timedelta(minutes=5), status=CommandStatus.SENT)

    def answer_first(execute, sql, params, many, context):
        # The reply lands between the sweep's read and its write.
        if sql.startswith('UPDATE "chargers_command"') and not answered:
            answered.append(True)
            with connection.cursor() as cursor:
                cursor.execute(
                    'UPDATE "chargers_command" SET "status" = %s WHERE "id" = %s',
                    [CommandStatus.ANSWERED, made.pk],
                )
        return execute(sql, params, many, context)

    answered: list[bool] = []
    with connection.execute_wrapper(answer_first):
        assert sweep() == 0
    assert answered
    assert reloaded(made).status == CommandStatus.ANSWERED


def test_the_sweep_covers_every_tenant(tenant_a, tenant_b):
    mine = command(tenant_a, age=timedelta(minutes=5))
    theirs = command(tenant_b, age=timedelta(minutes=5))
    assert sweep() == 2
    assert reloaded(mine).status == reloaded(theirs).status == CommandStatus.TIMEOUT


@pytest.mark.django_db(transaction=True)
def test_a_command_records_the_timeout_it_was_sent_with(tenant_a):
    with scoping.scope(tenant_a):
        charger = Charger.objects.create(identity="CP-1")
    sent = commands.send_command(charger, "Reset", {"type": "Soft"}, timeout=12)
    assert sent.status == CommandStatus.OFFLINE
    assert reloaded(sent).timeout == 12


def test_the_sweep_runs_as_often_as_the_api_tells_pollers():
    # `commands.pending_at_most`, which the API's description quotes, counts on this interval.
    schedule = settings.CELERY_BEAT_SCHEDULE["time-out-stale-commands"]["schedule"]
    assert schedule == commands.SWEEP_INTERVAL.total_seconds()
