"""Sampled values as the domain keeps them (`metering.Sample`), from any version's meterValue.

One normaliser reads what the versions share (timestamp, measurand, phase, location, context)
and makes the standard's defaults explicit; a small reader per version reads what differs:
1.6 has a unit and a SignedData format, 2.0.1 a unitOfMeasure with a power-of-ten multiplier
and a separate signedMeterValue.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from chargers.metering import ENERGY, Sample, default_unit, to_decimal
from chargers.ocpp import JsonDict
from chargers.ocpp.errors import CallRefused
from chargers.ocpp.frames import parse_timestamp

# One sampledValue -> (value, unit, signed data) as the version says them.
Reading = Callable[[JsonDict], tuple[Decimal | None, str, str]]

# Readings are kept to 14 digits before the point (MeterSample.value): no meter reads more.
READING_LIMIT = Decimal(10) ** 14


def reading_16(sampled: JsonDict) -> tuple[Decimal | None, str, str]:
    raw = sampled["value"]
    value = None if sampled.get("format") == "SignedData" else to_decimal(raw)
    # Signed values, and raw ones that are not numbers, are kept verbatim.
    return value, sampled.get("unit") or "", raw if value is None else ""


def reading_201(sampled: JsonDict) -> tuple[Decimal | None, str, str]:
    unit = sampled.get("unitOfMeasure") or {}
    value = to_decimal(sampled["value"])
    multiplier = unit.get("multiplier", 0)
    if value is not None and multiplier:
        value = value.scaleb(multiplier)
    signed = sampled.get("signedMeterValue") or {}
    return value, unit.get("unit") or "", signed.get("signedMeterData", "")


def normalise(meter_value: list[JsonDict], reading: Reading) -> list[Sample]:
    """The samples of a message's meterValue entries, with the standard's defaults explicit
    (so that a resend with and without them is recognised as the same sample)."""
    result = []
    for entry in meter_value:
        at = parse_timestamp(entry["timestamp"])
        for sampled in entry["sampledValue"]:
            measurand = sampled.get("measurand") or ENERGY
            value, unit, signed_data = reading(sampled)
            if value is not None and abs(value) >= READING_LIMIT:
                raise CallRefused(
                    "property", f"sampledValue value {sampled['value']} is out of range."
                )
            result.append(
                Sample(
                    timestamp=at,
                    measurand=measurand,
                    value=value,
                    unit=unit or default_unit(measurand),
                    phase=sampled.get("phase") or "",
                    location=sampled.get("location") or "Outlet",
                    context=sampled.get("context") or "Sample.Periodic",
                    signed_data=signed_data,
                )
            )
    return result


def samples_16(meter_value: list[JsonDict]) -> list[Sample]:
    return normalise(meter_value, reading_16)


def samples_201(meter_value: list[JsonDict]) -> list[Sample]:
    return normalise(meter_value, reading_201)
