"""Send commands to connected chargers from a process of its own and time each round trip.

Against the project it goes the way an operator's command goes: Django set up on the same
database and Redis as the server, `chargers.commands.asend_command` records the Command row,
rings the consumer over the channel layer, and waits for the answer. Against the baseline it
sends the same command through the bare server's `/control` socket. Commands go one at a time,
round-robin over the given chargers, so the figure is a latency, not a throughput. The result
is one JSON object on stdout.

    python -m bench.commander --tenant bench --ids BENCH-00001,BENCH-00002 --count 200
    python -m bench.commander --control-url ws://127.0.0.1:9000/control --ids ... --count 200
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

from bench.frames import COMMAND_ACTION, COMMAND_PAYLOAD

# Commands before the measured ones: the first pays for imports and opening connections.
WARM_UP = 3
TIMEOUT = 10.0


async def project(tenant_slug: str, ids: list[str], count: int) -> dict:
    import django

    django.setup()
    from channels.db import database_sync_to_async

    from chargers.commands import asend_command
    from chargers.models import Charger
    from cpms.models import Tenant
    from cpms.tenancy import scoping

    @database_sync_to_async
    def load():
        tenant = Tenant.objects.get(slug=tenant_slug)
        with scoping.scope(tenant):
            chargers = {c.identity: c for c in Charger.objects.filter(identity__in=ids)}
        return tenant, [chargers[identity] for identity in ids]

    tenant, chargers = await load()
    latencies, statuses = [], {}
    with scoping.scope(tenant):
        for n in range(count + WARM_UP):
            started = time.perf_counter()
            try:
                command = await asend_command(
                    chargers[n % len(chargers)],
                    COMMAND_ACTION,
                    COMMAND_PAYLOAD,
                    source="bench",
                    timeout=TIMEOUT,
                )
                status = command.status
            except Exception as error:  # an overloaded server: count it and go on measuring
                status = f"raised {type(error).__name__}"
            elapsed = time.perf_counter() - started
            if n >= WARM_UP:
                latencies.append(elapsed)
                statuses[status] = statuses.get(status, 0) + 1
    return {"latencies": latencies, "statuses": statuses}


async def baseline(control_url: str, ids: list[str], count: int) -> dict:
    from websockets.asyncio.client import connect

    latencies, statuses = [], {}
    # The bare server negotiates ocpp1.6 on every socket, its control socket included.
    async with connect(control_url, subprotocols=["ocpp1.6"], compression=None) as ws:
        for n in range(count + WARM_UP):
            started = time.perf_counter()
            request = {"charger": ids[n % len(ids)], "action": COMMAND_ACTION}
            await ws.send(json.dumps({**request, "payload": COMMAND_PAYLOAD}))
            reply = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT * 2))
            elapsed = time.perf_counter() - started
            if n >= WARM_UP:
                latencies.append(elapsed)
                statuses[reply["status"]] = statuses.get(reply["status"], 0) + 1
    return {"latencies": latencies, "statuses": statuses}


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ids", required=True, help="Comma-separated charge point ids.")
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--tenant", help="The project's tenant slug (Django from the env).")
    parser.add_argument("--control-url", help="The baseline's control socket.")
    options = parser.parse_args()
    ids = options.ids.split(",")
    if options.control_url:
        result = asyncio.run(baseline(options.control_url, ids, options.count))
    else:
        result = asyncio.run(project(options.tenant, ids, options.count))
    print(json.dumps(result))


if __name__ == "__main__":
    run()
