"""Commands from the CSMS: each runs the charger's `on_<action>` handler, whose answer the
library sends; what the handler asks to do afterwards runs once that answer is on the wire.

Follow-ups (starting a session after RemoteStartTransaction, rebooting after Reset, a report
after GetBaseReport, ...) must not run before the reply: a CSMS would see the consequence of a
command before its answer. routing.py runs them from the library's `@after` hooks.
"""

from __future__ import annotations

import asyncio
import inspect
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chargers.simulator.base import SimulatedCharger

SECRET_NAMES = ("authorizationkey", "basicauthpassword")
REPORT_PART = 10  # items per message of a report sent in parts


def brief(payload: dict) -> str:
    """A command's payload in one short line, for the charger's events."""
    text = ", ".join(f"{k}={v}" for k, v in payload.items())
    if any(secret in text.lower() for secret in SECRET_NAMES):
        # Never print a password the CSMS is setting.
        text = re.sub(r"('?(?:attribute_)?value'?[=:] ?)'?[^,'}]*'?", r"\1***", text)
    return text if len(text) <= 120 else text[:117] + "..."


def at_once(function: Callable[[], None]) -> Callable[[], Awaitable]:
    """A follow-up that only calls function()."""

    async def job():
        function()

    return job


def _given(payload: object) -> Callable[[], object]:
    """A payload builder for a payload built already."""
    return lambda: payload


class Commands:
    def __init__(self, charger: SimulatedCharger):
        self.charger = charger
        # Keyed by the call being handled; a follow-up asked for outside one is kept under None
        # and never run.
        self._follow_ups: dict[str | None, Callable[[], Awaitable[Any]]] = {}
        self._current_call: str | None = None

    async def handle(self, action, method: str, call_id: str, payload: dict):
        """Run the charger's on_<method> for a CSMS call; called by the routed ChargePoint."""
        charger = self.charger
        charger.stats.add("commands")
        charger.events.add("command", f"{action} {brief(payload)}".rstrip())
        self._current_call = call_id
        try:
            result = getattr(charger, f"on_{method}")(**payload)
            if inspect.isawaitable(result):
                result = await result
        except BaseException:
            self._follow_ups.pop(call_id, None)
            raise
        finally:
            self._current_call = None
        return result

    def after_reply(self, job: Callable[[], Awaitable[Any]]) -> None:
        """Run job() once the reply to the call being handled has been sent."""
        self._follow_ups[self._current_call] = job

    def run_follow_up(self, call_id: str) -> None:
        job = self._follow_ups.pop(call_id, None)
        if job is not None:
            self.charger.spawn(job())

    def trigger(self, jobs: dict, requested_message: str, reply):
        """Answer a trigger with `reply` and send the message once the answer is out."""
        job = jobs.get(requested_message)
        if job is None:
            return reply(status="NotImplemented")
        self.after_reply(job)
        return reply(status="Accepted")

    def answer_with_report(self, reply, empty: str, action: str, items: list, build):
        """Accepted, and `items` sent in parts once the answer is out; `empty` if none."""
        if not items:
            return reply(status=empty)
        self.report_after_reply(action, items, build)
        return reply(status="Accepted")

    def report_after_reply(self, action: str, items: list, build) -> None:
        """Once the answer is out, send `items` in parts; build(seq_no, part, tbc)."""
        self.after_reply(lambda: self._send_parts(action, items, build))

    async def _send_parts(self, action: str, items: list, build) -> None:
        outbox = self.charger.outbox
        parts = [items[i : i + REPORT_PART] for i in range(0, len(items), REPORT_PART)] or [[]]
        futures = []
        for seq_no, part in enumerate(parts):
            payload = build(seq_no, part, seq_no < len(parts) - 1)
            futures.append(outbox.enqueue(action, _given(payload), persistent=False))
        await asyncio.gather(*(outbox.settle(f) for f in futures))
