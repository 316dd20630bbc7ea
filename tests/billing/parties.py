"""The parties the billing tests issue documents between."""

# Tenant A's legal details, as its invoices show them (what Factur-X needs of a seller).
SELLER = {
    "legal_name": "Harbour Charging GmbH",
    "street": "Am Sandtorkai 1",
    "postal_code": "20457",
    "city": "Hamburg",
    "country": "DE",
    "vat_id": "DE123456789",
}
