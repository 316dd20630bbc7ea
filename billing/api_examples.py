"""What the API documentation shows for billing: a tariff, a price preview, an assignment and a
charge detail record (tests/cpms/api/test_schema.py holds each against its schema)."""

from __future__ import annotations

from typing import Any

from cpms.api.examples import AT, download, exchange, pick, returns

__all__ = ["download", "exchange", "pick", "returns"]

ELEMENTS: list[dict[str, Any]] = [
    {"price_components": [{"type": "FLAT", "price": 0.5, "vat": 19, "step_size": 1}]},
    {
        "price_components": [{"type": "ENERGY", "price": 0.39, "vat": 19, "step_size": 1}],
        "restrictions": {"start_time": "07:00", "end_time": "22:00"},
    },
    {"price_components": [{"type": "ENERGY", "price": 0.29, "vat": 19, "step_size": 1}]},
    {
        "price_components": [{"type": "PARKING_TIME", "price": 6.0, "vat": 19, "step_size": 300}],
        "restrictions": {"start_time": "07:00", "end_time": "20:00"},
    },
]
NEW_TARIFF = {
    "name": "Public AC",
    "currency": "EUR",
    "elements": ELEMENTS,
    "max_price": {"excl_vat": 60, "incl_vat": 71.4},
    "parking_grace_minutes": 30,
}
TARIFF = {
    "id": 4,
    **NEW_TARIFF,
    "min_price": None,
    "start_date_time": None,
    "end_date_time": None,
    "effective_from": AT,
    "version": 1,
    "versions": [{"version": 1, "effective_from": AT, "created_at": AT}],
    "last_updated": AT,
    "created_at": AT,
}
TARIFF_CHANGE = {
    "elements": [
        ELEMENTS[0],
        {**ELEMENTS[1], "price_components": [{"type": "ENERGY", "price": 0.42, "vat": 19}]},
        *ELEMENTS[2:],
    ],
    "effective_from": "2026-03-03T00:00:00Z",
}
CHANGED_TARIFF = {
    **TARIFF,
    "elements": [
        ELEMENTS[0],
        {
            **ELEMENTS[1],
            "price_components": [{"type": "ENERGY", "price": 0.42, "vat": 19, "step_size": 1}],
        },
        *ELEMENTS[2:],
    ],
    "effective_from": "2026-03-03T00:00:00Z",
    "version": 2,
    "versions": [
        {
            "version": 2,
            "effective_from": "2026-03-03T00:00:00Z",
            "created_at": "2026-03-02T16:00:00Z",
        },
        {"version": 1, "effective_from": AT, "created_at": AT},
    ],
    "last_updated": "2026-03-02T16:00:00Z",
}
PRICE_REQUEST = {
    "start": "2026-03-06T17:40:00+01:00",
    "charging_end": "2026-03-06T19:10:00+01:00",
    "end": "2026-03-06T19:50:00+01:00",
    "energy_kwh": 22,
    "max_power_kw": 22,
}
PRICE = {
    "tariff": 4,
    "tariff_version": 1,
    "group": None,
    "currency": "EUR",
    "total_cost": {"excl_vat": "10.08", "incl_vat": "12.00"},
    "total_energy": "22.000000",
    "total_time": "2.166667",
    "total_charging_time": "1.500000",
    "total_parking_time": "0.666667",
    "lines": [
        {
            "type": "ENERGY",
            "element": 1,
            "price": "0.39",
            "vat": "19",
            "step_size": 1,
            "volume": "22.000000",
            "excl_vat": "8.58",
        },
        {
            "type": "FLAT",
            "element": 0,
            "price": "0.5",
            "vat": "19",
            "step_size": 1,
            "volume": "1.000000",
            "excl_vat": "0.50",
        },
        {
            "type": "PARKING_TIME",
            "element": 3,
            "price": "6.0",
            "vat": "19",
            "step_size": 300,
            "volume": "0.166667",
            "excl_vat": "1.00",
        },
    ],
    "vat_groups": [{"vat": "19", "base": "10.08", "amount": "1.92"}],
    "adjustment": {"excl_vat": "0.00", "incl_vat": "0.00"},
}
ASSIGNMENT = {
    "id": 6,
    "tariff": 4,
    "site": 3,
    "charger": None,
    "connector": None,
    "group": None,
    "priority": 0,
    "place": "site",
    "created_at": AT,
}
CDR = {
    "id": 31,
    "session": 77,
    "reservation": None,
    "version": 1,
    "supersedes": None,
    "superseded": False,
    "issued_at": "2026-03-06T18:50:03Z",
    "start_date_time": "2026-03-06T16:40:00Z",
    "end_date_time": "2026-03-06T18:50:00Z",
    "charger": 5,
    "charger_identity": "ACME-0042",
    "site": 3,
    "evse_id": 1,
    "connector_id": 1,
    "cdr_token": {"uid": "04A1B2C3", "id_token": 12, "group": None},
    "currency": "EUR",
    "tariffs": [
        {
            "id": 4,
            "name": "Public AC",
            "version": 1,
            "currency": "EUR",
            "elements": ELEMENTS,
            "min_price": None,
            "max_price": {"excl_vat": 60, "incl_vat": 71.4},
        }
    ],
    "charging_periods": [
        {
            "start_date_time": "2026-03-06T16:40:00+00:00",
            "dimensions": [
                {"type": "ENERGY", "volume": "22.000000"},
                {"type": "TIME", "volume": "1.500000"},
            ],
        },
        {
            "start_date_time": "2026-03-06T18:10:00+00:00",
            "dimensions": [{"type": "PARKING_TIME", "volume": "0.666667"}],
        },
    ],
    "total_cost": {"excl_vat": "10.08", "incl_vat": "12.00"},
    "total_energy": "22.000000",
    "total_time": "2.166667",
    "total_parking_time": "0.666667",
    "lines": PRICE["lines"],
    "vat_groups": PRICE["vat_groups"],
}
CDRS_CSV = (
    "cdr_id,session_id,version,superseded,issued_at,charger,site,evse_id,id_token,"
    "start_date_time,end_date_time,total_energy_kwh,total_time_h,total_parking_time_h,currency,"
    "total_excl_vat,total_incl_vat,tariff,tariff_version\r\n"
    "31,77,1,no,2026-03-06T19:50:03+01:00,ACME-0042,Mall Hamburg,1,04A1B2C3,"
    "2026-03-06T17:40:00+01:00,2026-03-06T19:50:00+01:00,22.000000,2.166667,0.666667,EUR,"
    "10.08,12.00,Public AC,1\r\n"
)
INVOICES_CSV = (
    "number,kind,customer,customer_vat_id,issue_date,period_start,period_end,currency,"
    "total_excl_vat,vat,total_incl_vat,credits,credited_by,facturx\r\n"
    "INV-000042,invoice,Harbour Logistics,DE987654321,2026-04-03,2026-03-01,2026-03-31,EUR,"
    "10.08,1.92,12.00,,CN-000003,yes\r\n"
    "CN-000003,credit_note,Harbour Logistics,DE987654321,2026-04-03,2026-03-01,2026-03-31,EUR,"
    "-10.08,-1.92,-12.00,INV-000042,,yes\r\n"
)
INVOICE_LINES_CSV = (
    "invoice,line,session_id,cdr_id,charger,start_date_time,end_date_time,total_energy_kwh,"
    "description,currency,total_excl_vat,vat,total_incl_vat\r\n"
    "INV-000042,1,77,31,ACME-0042,2026-03-06T17:40:00+01:00,2026-03-06T19:50:00+01:00,"
    '22.000000,"Session 77 on ACME-0042, 2026-03-06 16:40 UTC, 22 kWh",EUR,10.08,1.92,'
    "12.00\r\n"
)
# What a PDF download starts with (the example stands for the file).
PDF = "%PDF-1.7 ... %%EOF"
CUSTOMER = {
    "id": 8,
    "name": "Harbour Logistics",
    "kind": "fleet",
    "email": "accounts@harbour-logistics.example.com",
    "street": "Kaistraße 9",
    "postal_code": "20457",
    "city": "Hamburg",
    "country": "DE",
    "vat_id": "DE123456789",
    "groups": [12],
    "created_at": AT,
}
INVOICE_LINE = {
    "cdr": 31,
    "session": 77,
    "description": "Session 77 on ACME-0042, 2026-03-06 16:40 UTC, 22 kWh",
    "total_excl_vat": "10.08",
    "total_incl_vat": "12.00",
}
INVOICE = {
    "id": 5,
    "number": "INV-000042",
    "kind": "invoice",
    "customer": 8,
    "period_start": "2026-03-01",
    "period_end": "2026-03-31",
    "issued_at": "2026-04-01T00:05:00Z",
    "currency": "EUR",
    "total_excl_vat": "10.08",
    "total_incl_vat": "12.00",
    "vat_groups": [{"vat": "19", "base": "10.08", "amount": "1.92"}],
    "credits": None,
    "reason": "",
    "lines": [INVOICE_LINE],
}
CREDIT_NOTE = {
    **INVOICE,
    "id": 6,
    "number": "CN-000003",
    "kind": "credit_note",
    "issued_at": "2026-04-03T09:12:00Z",
    "total_excl_vat": "-10.08",
    "total_incl_vat": "-12.00",
    "vat_groups": [{"vat": "19", "base": "-10.08", "amount": "-1.92"}],
    "credits": 5,
    "reason": "Charger was miscalibrated",
    "lines": [{**INVOICE_LINE, "total_excl_vat": "-10.08", "total_incl_vat": "-12.00"}],
}
SITE_SHARE = {"id": 2, "site": 3, "revenue_share_percent": "30.00", "monthly_fee": "25.00"}
STATEMENT = {
    "id": 9,
    "site_owner": 2,
    "period_start": "2026-03-01",
    "period_end": "2026-03-31",
    "issued_at": "2026-04-03T00:05:00Z",
    "currency": "EUR",
    "revenue": "1480.50",
    "share": "444.15",
    "fees": "25.00",
    "payout": "419.15",
    "sites": [
        {
            "site": 3,
            "name": "Mall Hamburg",
            "sessions": 212,
            "energy_kwh": "3796.154000",
            "revenue": "1480.50",
            "share_percent": "30.00",
            "share": "444.15",
            "fee": "25.00",
        }
    ],
}
