"""Settings as templates name them: the one-line form, value comparison, and which template's
value wins (pure functions, table-driven)."""

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from chargers.configuration.desired import (
    effective,
    entry_fields,
    parse_lines,
    same_value,
    setting_name,
)


@pytest.mark.parametrize(
    "name, fields",
    [
        ("OCPPCommCtrlr.HeartbeatInterval", {"component": "OCPPCommCtrlr"}),
        ("EVSE@1.Power#MaxSet", {"evse_id": 1, "attribute_type": "MaxSet"}),
        ("Connector@1/2.Enabled", {"evse_id": 1, "connector_id": 2}),
        (
            "OCPPCommCtrlr.MessageAttempts/TransactionEvent",
            {"variable_instance": "TransactionEvent"},
        ),
        ("Ctrlr/Main.Enabled", {"component_instance": "Main"}),
    ],
)
def test_201_names_read_and_write_back_the_same(name, fields):
    read = entry_fields(protocol="2.0.1", name=name)
    assert {k: read[k] for k in fields} == fields
    assert setting_name(Entry(**read)) == name


@pytest.mark.parametrize(
    "protocol, text, message",
    [
        ("1.6", "HeartbeatInterval 300", "Line 1: write setting = value."),
        ("1.6", "\n = 300", "Line 2: name the setting."),
        ("2.0.1", "HeartbeatInterval = 300", "Line 1: 'HeartbeatInterval': name 2.0.1"),
    ],
)
def test_bad_lines_are_refused_naming_the_line(protocol, text, message):
    with pytest.raises(ValueError, match="^" + message.replace(".", r"\.")):
        parse_lines(protocol=protocol, text=text)


def test_comments_and_blank_lines_are_skipped_and_values_kept_as_text():
    text = "# metering\n\nMeterValueSampleInterval = 30\nStopTxnSampledData = Energy,SoC\n"
    assert parse_lines(protocol="1.6", text=text) == [
        {"key": "MeterValueSampleInterval", "value": "30"},
        {"key": "StopTxnSampledData", "value": "Energy,SoC"},
    ]


@pytest.mark.parametrize(
    "desired, actual, same",
    [
        ("true", "True", True),
        ("300", "300 ", True),
        ("300", "0300", False),
        ("Energy", "energy", False),
        ("1", None, False),
    ],
)
def test_values_compare_exactly_but_for_booleans(desired, actual, same):
    assert same_value(desired, actual) is same


@dataclass
class Entry:
    key: str = ""
    component: str = ""
    component_instance: str = ""
    evse_id: int = 0
    connector_id: int = 0
    variable: str = ""
    variable_instance: str = ""
    attribute_type: str = "Actual"
    value: str = ""

    @property
    def setting(self):
        return setting_name(self)


@dataclass
class Template:
    pk: int
    name: str
    rank: int
    values: dict
    created_at: datetime = field(default_factory=lambda: datetime(2026, 1, 1, tzinfo=UTC))

    @property
    def entries(self):
        rows = [Entry(key=k, value=v) for k, v in self.values.items()]
        return type("Entries", (), {"all": lambda _: rows})()


def test_a_site_wins_over_a_model_which_wins_over_a_vendor_and_the_fleet():
    fleet = Template(1, "fleet", 0, {"A": "fleet", "B": "fleet", "C": "fleet", "D": "fleet"})
    vendor = Template(2, "vendor", 1, {"A": "vendor", "B": "vendor", "C": "vendor"})
    model = Template(3, "model", 3, {"A": "model", "B": "model"})
    site = Template(4, "site", 4, {"A": "site"})

    desired = effective([fleet, vendor, site, model])

    assert {s: (d.value, d.template_name) for s, d in desired.items()} == {
        "A": ("site", "site"),
        "B": ("model", "model"),
        "C": ("vendor", "vendor"),
        "D": ("fleet", "fleet"),
    }


def test_between_equally_specific_templates_the_older_wins():
    older = Template(7, "older", 1, {"A": "1"}, datetime(2026, 1, 1, tzinfo=UTC))
    newer = Template(3, "newer", 1, {"A": "2"}, datetime(2026, 2, 1, tzinfo=UTC))

    assert effective([newer, older])["A"].template_name == "older"
