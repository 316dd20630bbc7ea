"""Long-lived processes keep what they loaded at start out of the collector's walks: daphne
(`manage.py serve`) and each Celery worker process."""

import gc

import pytest
from celery.signals import worker_init, worker_process_init

from cpms.celery import calm_the_worker


@pytest.mark.parametrize("signal", [worker_init, worker_process_init], ids=["main", "child"])
def test_a_worker_process_calms_its_collector_when_it_starts(signal):
    assert calm_the_worker in signal._live_receivers(None)


def test_calming_freezes_what_is_loaded_and_collects_the_young_less_often():
    threshold = gc.get_threshold()
    gc.unfreeze()
    try:
        calm_the_worker()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold()[0] == 50_000
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
