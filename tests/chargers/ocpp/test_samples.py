"""One sample normaliser for every version: the standard's defaults made explicit, each
version's own way of saying units and signed values read by its small reader."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chargers.metering import Sample
from chargers.ocpp.errors import CallRefused
from chargers.ocpp.samples import samples_16, samples_201

AT = "2030-05-01T08:00:00Z"
WHEN = datetime(2030, 5, 1, 8, 0, tzinfo=UTC)


def one(sampled: dict, read=samples_16) -> Sample:
    [sample] = read([{"timestamp": AT, "sampledValue": [sampled]}])
    return sample


@pytest.mark.parametrize(
    "read,sampled,expected",
    [
        # Nothing but a value: an energy register reading in Wh, periodic, at the outlet.
        (
            samples_16,
            {"value": "1200"},
            Sample(WHEN, "Energy.Active.Import.Register", Decimal(1200), unit="Wh"),
        ),
        (
            samples_201,
            {"value": 1200},
            Sample(WHEN, "Energy.Active.Import.Register", Decimal(1200), unit="Wh"),
        ),
        # Other measurands have no default unit.
        (
            samples_16,
            {"value": "16", "measurand": "Current.Import"},
            Sample(WHEN, "Current.Import", Decimal(16)),
        ),
        # Everything said is kept.
        (
            samples_16,
            {
                "value": "231.5",
                "context": "Sample.Clock",
                "measurand": "Voltage",
                "phase": "L1-N",
                "location": "Inlet",
                "unit": "V",
            },
            Sample(WHEN, "Voltage", Decimal("231.5"), "V", "L1-N", "Inlet", "Sample.Clock"),
        ),
        # 1.6 signed values, and raw values that are not numbers, are kept verbatim.
        (
            samples_16,
            {"value": "AbCd==", "format": "SignedData"},
            Sample(WHEN, "Energy.Active.Import.Register", None, "Wh", signed_data="AbCd=="),
        ),
        (
            samples_16,
            {"value": "n/a"},
            Sample(WHEN, "Energy.Active.Import.Register", None, "Wh", signed_data="n/a"),
        ),
        # 2.0.1: the multiplier scales the value, the unit stays as said; signed data apart.
        (
            samples_201,
            {"value": 12.5, "unitOfMeasure": {"unit": "kWh", "multiplier": 3}},
            Sample(WHEN, "Energy.Active.Import.Register", Decimal(12500), "kWh"),
        ),
        (
            samples_201,
            {
                "value": 7,
                "measurand": "Power.Active.Import",
                "unitOfMeasure": {"unit": "kW", "multiplier": -1},
                "signedMeterValue": {
                    "signedMeterData": "SIG",
                    "signingMethod": "m",
                    "encodingMethod": "e",
                    "publicKey": "k",
                },
            },
            Sample(WHEN, "Power.Active.Import", Decimal("0.7"), "kW", signed_data="SIG"),
        ),
    ],
)
def test_sampled_values_become_samples_with_the_defaults_made_explicit(read, sampled, expected):
    assert one(sampled, read) == expected


def test_every_sampled_value_of_every_entry_is_a_sample_at_its_entrys_time():
    samples = samples_201(
        [
            {"timestamp": "2030-05-01T08:00:00Z", "sampledValue": [{"value": 1}, {"value": 2}]},
            {"timestamp": "2030-05-01T08:01:00+00:00", "sampledValue": [{"value": 3}]},
        ]
    )
    assert [(s.timestamp.minute, s.value) for s in samples] == [(0, 1), (0, 2), (1, 3)]


def test_a_time_that_is_not_one_is_refused_as_a_property_violation():
    with pytest.raises(CallRefused) as refused:
        samples_16([{"timestamp": "yesterday", "sampledValue": [{"value": "1"}]}])
    assert refused.value.problem == "property"


@pytest.mark.parametrize("value", ["1e14", "-100000000000000", "99999999999999999999"])
def test_a_reading_beyond_what_any_meter_reads_is_refused(value):
    with pytest.raises(CallRefused, match="out of range") as refused:
        samples_16([{"timestamp": "2030-01-01T00:00:00Z", "sampledValue": [{"value": value}]}])
    assert refused.value.problem == "property"


DEFAULTS_16 = {"context": "Sample.Periodic", "location": "Outlet", "unit": "Wh"}


@given(
    st.decimals(min_value=-(10**13), max_value=10**13, places=3),
    st.sets(st.sampled_from(sorted(DEFAULTS_16))),
)
def test_a_resend_that_spells_out_the_defaults_is_the_same_sample(value, spelled):
    bare = {"value": str(value)}
    explicit = {**bare, **{key: DEFAULTS_16[key] for key in spelled}}
    assert one(bare) == one(explicit)
