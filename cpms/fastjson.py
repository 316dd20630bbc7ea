"""JSON by orjson where a busy path encodes big documents: a load plan of a thousand connectors
is encoded for its digest and again for its row on every run, and the standard library's
encoder took a third of the run. The JSON is the same; values JSON has no type for (datetimes,
decimals, UUIDs) are written as Django's encoder writes them."""

from __future__ import annotations

from typing import Any

import orjson
from django.core.serializers.json import DjangoJSONEncoder

# Dict keys that are not strings (ids) become strings, as with the standard library; datetimes
# and dataclasses go to Django's encoder, so a value reads the same whichever encoder wrote it.
OPTIONS = (
    orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
)
_django = DjangoJSONEncoder()


def dumps_bytes(value: Any) -> bytes:
    return orjson.dumps(value, default=_django.default, option=OPTIONS)


def dumps(value: Any) -> str:
    return dumps_bytes(value).decode()


class FastJSONEncoder(DjangoJSONEncoder):
    """A model JSONField's encoder (`encoder=FastJSONEncoder`)."""

    def encode(self, o: Any) -> str:
        return dumps(o)
