"""Frames for the OCPP fuzz suite (test_fuzz.py), drawn from the versions' own JSON schemas.

Most frames are CALLs of an action the server handles whose payload follows the action's request
schema, some with one thing broken (a required property gone, a wrong type, a number or text
out of its bounds, an unknown property, nesting far too deep); the rest are broken frames (not
JSON, not an array, an unknown message type or action, a result nobody asked for). A seeded
`random.Random` draws them, so a failing run can be replayed from its seed.
"""

from __future__ import annotations

import json
import random
import string
from dataclasses import dataclass
from typing import Any

from chargers.ocpp.library import schema_text

ANY_TEXT = string.ascii_letters + string.digits + " -_:./#+" + "äß€✓"


@dataclass(frozen=True)
class Frame:
    text: str
    unique_id: str | None  # the id an answer must carry; None: no answer is owed


def request_schema(version: str, action: str) -> dict[str, Any]:
    return json.loads(schema_text(version, action, response=False))


class Draw:
    """Payloads that follow (or, asked to, break) one schema."""

    def __init__(self, rng: random.Random, schema: dict[str, Any]):
        self.rng, self.definitions = rng, schema.get("definitions", {})

    def resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            node = self.definitions[node["$ref"].rsplit("/", 1)[1]]
        return node

    def value(self, node: dict[str, Any], depth: int = 0) -> Any:
        node = self.resolve(node)
        rng = self.rng
        if "enum" in node:
            return rng.choice(node["enum"])
        kind = node.get("type", "object")
        if kind == "object":
            properties = node.get("properties", {})
            required = set(node.get("required", []))
            return {
                name: self.value(sub, depth + 1)
                for name, sub in properties.items()
                if name in required or (depth < 4 and rng.random() < 0.5)
            }
        if kind == "array":
            items = node.get("items", {})
            low = node.get("minItems", 0)
            high = min(node.get("maxItems", low + 3), low + 3)
            return [self.value(items, depth + 1) for _ in range(rng.randint(low, max(low, high)))]
        if kind == "integer":
            low, high = node.get("minimum", -(2**31)), node.get("maximum", 2**31 - 1)
            return rng.choice([low, high, rng.randint(int(low), int(high)), 0, 1])
        if kind == "number":
            low, high = node.get("minimum", -1e6), node.get("maximum", 1e6)
            return round(rng.uniform(low, high), rng.choice([0, 1, 3]))
        if kind == "boolean":
            return rng.random() < 0.5
        if node.get("format") == "date-time":
            return rng.choice(
                ["2026-12-06T10:00:00Z", "2026-12-06T10:00:00.123+01:00", "1970-01-01T00:00:00Z"]
            )
        length = rng.randint(node.get("minLength", 0), min(node.get("maxLength", 40), 40))
        return "".join(rng.choice(ANY_TEXT) for _ in range(length))

    def broken(self, node: dict[str, Any]) -> Any:
        """A payload with one thing wrong."""
        payload = self.value(node)
        if not isinstance(payload, dict):
            return payload
        rng, node = self.rng, self.resolve(node)
        choice = rng.randrange(6)
        required = node.get("required", [])
        properties = node.get("properties", {})
        if choice == 0 and required:
            payload.pop(rng.choice(required), None)
        elif choice == 1 and properties:
            name = rng.choice(list(properties))
            payload[name] = rng.choice([None, "text", 3.5, -1, [1, 2], {"a": 1}, True])
        elif choice == 2 and properties:
            name = rng.choice(list(properties))
            sub = self.resolve(properties[name])
            if sub.get("type") in ("integer", "number"):
                payload[name] = rng.choice([-1, -(2**40), 2**53, 1e300])
            else:
                payload[name] = "x" * rng.choice([1001, 5000, 100_000])
        elif choice == 3:
            payload["notInTheSchema"] = "surprise"
        elif choice == 4:
            # Written into the frame's text by `frames` (json.dumps would recurse too deep).
            payload[rng.choice(list(properties) or ["deep"])] = f"{DEEP}{rng.choice([70, 1000])}"
        else:
            payload = rng.choice([[], "text", 42, None])
        return payload


def frames(version: str, actions: list[str], rng: random.Random, count: int) -> list[Frame]:
    """`count` frames of `version` for the actions a charger sends."""
    schemas = {action: request_schema(version, action) for action in actions}
    out: list[Frame] = []
    for n in range(count):
        unique_id = f"fz-{n}"
        roll = rng.random()
        if roll < 0.6 or roll < 0.9:
            action = rng.choice(actions)
            draw = Draw(rng, schemas[action])
            payload = draw.value(schemas[action]) if roll < 0.6 else draw.broken(schemas[action])
            out.append(Frame(nested(json.dumps([2, unique_id, action, payload])), unique_id))
        else:
            out.append(broken_frame(rng, unique_id))
    return out


DEEP = "nested-levels:"


def nested(text: str) -> str:
    """`text` with its deep-nesting marker, if any, replaced by that many nested arrays."""
    start = text.find(f'"{DEEP}')
    if start < 0:
        return text
    end = text.index('"', start + 1)
    levels = int(text[start + 1 + len(DEEP) : end])
    return text[:start] + "[" * levels + "1" + "]" * levels + text[end + 1 :]


def broken_frame(rng: random.Random, unique_id: str) -> Frame:
    """A frame that is no proper CALL. Answers are owed where the id can be read."""
    kind = rng.randrange(6)
    if kind == 0:
        return Frame("[2, " + '"' + unique_id, "-1")  # not JSON
    if kind == 1:
        return Frame(json.dumps({"not": "an array"}), "-1")
    if kind == 2:
        return Frame(json.dumps([2, unique_id, "NoSuchAction", {}]), unique_id)
    if kind == 3:
        return Frame(json.dumps([7, unique_id, "Heartbeat", {}]), unique_id)
    if kind == 4:
        return Frame(json.dumps([2, unique_id]), unique_id)
    # A result or an error for a call the server never made: nothing to answer.
    return Frame(json.dumps(rng.choice([[3, unique_id, {}], [4, unique_id, "X", "", {}]])), None)
