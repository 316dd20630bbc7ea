"""Route CSMS-initiated calls from the ocpp library's ChargePoint to the simulated charger.

A new library ChargePoint is made for every connection (its response queue and call lock belong
to one socket); the charger's state lives in the SimulatedCharger and survives reconnects. For
every handled action this module generates an `@on` handler that forwards the request to the
charger's `on_<action>` method, and an `@after` hook that runs the follow-up the handler asked
for. Follow-ups (starting a session after RemoteStartTransaction, rebooting after Reset, ...)
must run after the reply is on the wire, and the library runs `@after` hooks only then.
"""

from __future__ import annotations

from ocpp.routing import after, on


def _forward(action, method: str):
    async def handler(self, call_unique_id, **payload):
        return await self.sim.commands.handle(action, method, call_unique_id, payload)

    # The library registers handlers by function name, so each needs its own.
    handler.__name__ = f"on_{method}"
    return on(action)(handler)


def _follow_up(action, method: str):
    def hook(self, call_unique_id, **payload):
        self.sim.commands.run_follow_up(call_unique_id)

    hook.__name__ = f"after_{method}"
    return after(action)(hook)


def routed(base: type, actions, charger: type) -> type:
    """A subclass of the library's ChargePoint `base` that forwards to `self.sim` every action
    of `actions` (the version's Action enum) that the `charger` class has an on_<action> for."""
    namespace = {}
    for action in actions:
        if not hasattr(charger, f"on_{action.name}"):
            continue
        namespace[f"on_{action.name}"] = _forward(action, action.name)
        namespace[f"after_{action.name}"] = _follow_up(action, action.name)
    return type(f"Routed{base.__module__.replace('.', '_')}", (base,), namespace)
