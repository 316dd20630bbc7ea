"""The answer path's hand-off of Celery tasks: it never waits for the broker, bounds what
waits, and counts what it drops. The stall end to end: tests/chargers/ocpp/test_redis_stall.py."""

import threading
from types import SimpleNamespace

from cpms import handoff


class BlockedBroker:
    """A task whose broker takes nothing until `release` is set."""

    name = "tests.blocked"

    def __init__(self, broker_url="redis://127.0.0.1:6379/0"):
        self.app = SimpleNamespace(
            conf=SimpleNamespace(task_always_eager=False, broker_url=broker_url)
        )
        self.release = threading.Event()
        self.sent: list[dict] = []
        self.taken = threading.Event()
        self.done = threading.Event()

    def apply_async(self, *, kwargs, countdown):
        self.taken.set()
        assert self.release.wait(30)
        self.sent.append(kwargs)
        self.done.set()


def test_a_task_waits_for_the_broker_on_the_sender_thread_not_on_the_callers():
    task = BlockedBroker()
    handoff.Sender(size=2).put(task, {"n": 1})  # returns although the broker takes nothing
    assert task.taken.wait(30)
    assert not task.sent
    task.release.set()
    assert task.done.wait(30)
    assert task.sent == [{"n": 1}]


def test_beyond_the_bound_tasks_are_dropped_and_counted():
    task, sender = BlockedBroker(), handoff.Sender(size=2)
    sender.put(task, {"n": 1})
    assert task.taken.wait(30)  # the thread holds the first; two more fill the queue
    before = handoff.dropped()
    for n in range(2, 6):
        sender.put(task, {"n": n})
    assert handoff.dropped() == before + 2
    task.release.set()
    assert task.done.wait(30)


def test_the_in_memory_broker_is_given_the_task_at_once():
    task = BlockedBroker(broker_url="memory://")
    task.release.set()
    handoff.queue_task(task, n=1)
    assert task.sent == [{"n": 1}]
