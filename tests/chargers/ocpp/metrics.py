"""A node's Prometheus samples as the metrics tests read them."""

import asyncio
import urllib.request

from django.test import AsyncClient
from prometheus_client.parser import text_string_to_metric_families


async def scrape(server: str, *, in_process: bool = False) -> dict[tuple, float]:
    """The node's samples: (name, sorted labels) -> value."""
    if in_process:
        text = (await AsyncClient().get("/metrics")).content.decode()
    else:
        url = server.replace("ws://", "http://") + "/metrics"

        def fetch() -> str:
            with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 (our server)
                return answer.read().decode()

        text = await asyncio.to_thread(fetch)
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def moved(before: dict, after: dict, name: str, **labels: str) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0) - before.get(key, 0)
