"""Invoices as Factur-X / ZUGFeRD e-invoices, EN 16931 profile: the CII XML of an issued
invoice or credit note, and the PDF/A-3 that carries it. Akretion's factur-x library writes
the XML from EN 16931's business terms (BT-1 ...) and checks it against the official XSD as it
does, then embeds it with the XMP metadata Factur-X readers look for.

An EN 16931 line has one VAT category and rate, and a session's record may have several (one
per price component's VAT): each record becomes one line per VAT rate, with what a tariff's
minimum or maximum price changed (applied to the record's totals, not per rate) spread over
its rates in proportion. Amounts are the records' own, which the invoice's totals are the sums
of, so the XML's totals are the document's to the cent. A credit note (type 381) states its
amounts as positive figures, as EN 16931 asks; the invoice's rows hold them negative."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import facturx

from billing.models import ChargeDetailRecord, Invoice, InvoiceKind
from billing.pricing import from_minor, round_money

INVOICE = "380"
CREDIT_NOTE = "381"
# EN 16931's VAT categories (UNTDID 5305) for OCPI's VAT: a rate (standard, or zero rated at
# 0 %), or none at all, which OCPI distinguishes from 0 %: exempt, with the reason said.
STANDARD, ZERO_RATED, EXEMPT = "S", "Z", "E"
EXEMPT_REASON = "No VAT applies under the tariff."
# "One": a line is one charging session (its description says where, when and how much).
UNIT = "C62"


@dataclass(frozen=True)
class Part:
    """A record's amount at one VAT category and rate."""

    category: str
    rate: Decimal
    net: Decimal
    vat: Decimal


def _vat_key(rate: str | None) -> tuple[str, Decimal]:
    if rate is None:
        return EXEMPT, Decimal(0)
    value = Decimal(rate)
    return (ZERO_RATED if value == 0 else STANDARD), value


def _spread(amount: Decimal, weights: list[Decimal], currency: str) -> list[Decimal]:
    """`amount` split in proportion to `weights`, each share rounded to the currency's minor
    unit and the rounding left on the largest, so the shares sum to `amount` exactly."""
    total = sum(weights, Decimal(0))
    if not total:
        shares = [Decimal(0)] * len(weights)
    else:
        shares = [round_money(amount * weight / total, currency) for weight in weights]
    largest = max(range(len(weights)), key=lambda i: weights[i])
    shares[largest] += amount - sum(shares, Decimal(0))
    return shares


def parts(cdr: ChargeDetailRecord) -> list[Part]:
    """The record's amounts per VAT category and rate, the min/max price adjustment spread
    over them; they sum to the record's totals."""
    groups = cdr.vat_groups
    adjustment = cdr.adjustment or {}
    excl = Decimal(adjustment.get("excl_vat", 0))
    vat = Decimal(adjustment.get("incl_vat", 0)) - excl
    if not groups:
        # Nothing priced but the minimum price: its VAT says the rate.
        rate = (vat * 100 / excl).quantize(Decimal("0.01"), ROUND_HALF_UP) if excl and vat else None
        groups = [{"vat": None if rate is None else str(rate), "base": "0", "amount": "0"}]
    weights = [Decimal(group["base"]) for group in groups]
    extra_net = _spread(excl, weights, cdr.currency)
    extra_vat = _spread(vat, weights, cdr.currency)
    return [
        Part(*_vat_key(group["vat"]), Decimal(group["base"]) + net, Decimal(group["amount"]) + tax)
        for group, net, tax in zip(groups, extra_net, extra_vat, strict=True)
    ]


def _money(amount: Decimal, currency: str) -> str:
    return str(round_money(amount, currency))


def _rate(rate: Decimal) -> str:
    return f"{rate.normalize():f}"


def _party(party: dict[str, str], *, with_contact: bool = False) -> dict[str, Any]:
    found: dict[str, Any] = {
        "name": party["name"],
        "addr_l1": party.get("street"),
        "postcode": party.get("postal_code"),
        "city": party.get("city"),
        "country_code": party.get("country"),
        "vat_identifier": party.get("vat_id"),
    }
    if with_contact and party.get("email"):
        found["contacts"] = [{"email": party["email"]}]
    return {key: value for key, value in found.items() if value}


def _lines(invoice: Invoice) -> Iterator[tuple[dict[str, Any], Part]]:
    number = 0
    for line in invoice.lines.select_related("cdr").order_by("pk"):
        split = parts(line.cdr)
        for part in split:
            number += 1
            name = line.description
            if len(split) > 1:
                name += f" (VAT {_rate(part.rate)} %)" if part.category != EXEMPT else " (no VAT)"
            net = _money(part.net, invoice.currency)
            yield (
                {
                    "BT-126": str(number),
                    "BT-153": name,
                    "BT-129": "1",
                    "BT-130": UNIT,
                    "BT-146": net,
                    "BT-131": net,
                    "BT-151": part.category,
                    "BT-152": _rate(part.rate),
                },
                part,
            )


def _breakdown(found: list[Part], currency: str) -> list[dict[str, str]]:
    sums: dict[tuple[str, Decimal], tuple[Decimal, Decimal]] = {}
    for part in found:
        net, vat = sums.get((part.category, part.rate), (Decimal(0), Decimal(0)))
        sums[(part.category, part.rate)] = (net + part.net, vat + part.vat)
    rows = []
    for (category, rate), (net, vat) in sorted(sums.items()):
        row = {
            "BT-116": _money(net, currency),
            "BT-117": _money(vat, currency),
            "BT-118": category,
            "BT-119": _rate(rate),
        }
        if category == EXEMPT:
            row["BT-120"] = EXEMPT_REASON
        rows.append(row)
    return rows


def cii_xml(invoice: Invoice, *, issued: date, credited_issued: date | None = None) -> bytes:
    """The invoice's EN 16931 XML (CII, Factur-X's EN 16931 profile), checked against the
    XSD. `issued` (and the credited invoice's `credited_issued`) are dates in the tenant's
    time zone, as the document shows them."""
    currency = invoice.currency
    lines = list(_lines(invoice))
    found = [part for _, part in lines]
    net = abs(from_minor(invoice.total_excl_vat_minor, currency))
    gross = abs(from_minor(invoice.total_incl_vat_minor, currency))
    breakdown = _breakdown(found, currency)
    data: dict[str, Any] = {
        "BT-1": invoice.display_number,
        "BT-2": issued,
        "BT-3": CREDIT_NOTE if invoice.kind == InvoiceKind.CREDIT_NOTE else INVOICE,
        "BT-5": currency,
        "BT-20": invoice.payment_terms,
        "BT-73": invoice.period_start,
        "BT-74": invoice.period_end,
        # The supply completed with the period. (Without a delivery date or party the library
        # writes an empty delivery element the XSD refuses.)
        "BT-72": invoice.period_end,
        "BG-4": _party(invoice.issuer),
        "BG-7": _party(invoice.recipient, with_contact=True),
        "BG-25": [line for line, _ in lines],
        "BG-23": breakdown,
        "BT-106": _money(net, currency),
        "BT-109": _money(net, currency),
        "BT-110": _money(sum((Decimal(row["BT-117"]) for row in breakdown), Decimal(0)), currency),
        "BT-112": _money(gross, currency),
        "BT-115": _money(gross, currency),
    }
    if invoice.reason:
        data["BG-1"] = [{"BT-22": invoice.reason}]
    if invoice.credits is not None:
        data["BG-3"] = [{"BT-25": invoice.credits.display_number, "BT-26": credited_issued}]
    # The schematron (EN 16931's business rules) needs a Saxon server the library calls over
    # HTTP; our tests run it locally instead.
    return facturx.generate_cii_xml(data, level="en16931", check_xsd=True, check_schematron=False)


def embed(pdf: bytes, xml: bytes, *, invoice: Invoice, title: str) -> bytes:
    """`pdf` (a PDF/A-3) with `xml` attached as factur-x.xml and the Factur-X XMP metadata."""
    issuer = invoice.issuer["name"]
    return facturx.generate_from_binary(
        pdf,
        xml,
        flavor="factur-x",
        level="en16931",
        check_xsd=False,  # checked as it was written
        pdf_metadata={
            "author": issuer,
            "keywords": "Factur-X, Invoice",
            "title": f"{issuer}: {title}",
            "subject": f"Factur-X {title.lower()} issued by {issuer}",
        },
        lang="en",
    )
