"""Reading the billing tests' PDFs back: their text, and what they carry attached."""

import io

from pypdf import PdfReader


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def attachments(content: bytes) -> dict[str, bytes]:
    return {name: data[0] for name, data in PdfReader(io.BytesIO(content)).attachments.items()}


def pdfa_level(content: bytes) -> tuple[str, str] | None:
    """The PDF/A part and conformance its XMP metadata claims (("3", "B") for PDF/A-3b)."""
    xmp = PdfReader(io.BytesIO(content)).xmp_metadata
    return None if xmp is None else (str(xmp.pdfaid_part), str(xmp.pdfaid_conformance))


# Factur-X's relationships of its XML to the invoice it is attached to (Factur-X 1.0, 6.2.2).
FACTURX_RELATIONSHIPS = {"/Data", "/Source", "/Alternative"}


def pdfa3_problems(content: bytes) -> list[str]:
    """What a PDF lacks of the PDF/A-3 essentials an e-invoice is checked for (ISO 19005-3
    6.2.2, 6.6.2.1, 6.8; Factur-X 1.0 6.2): XMP claiming PDF/A-3 B with the Factur-X schema,
    an OutputIntent with its ICC profile, and each embedded file associated with the document
    (/AF) with its relationship and MIME type. veraPDF, the full validator, is Java and not in
    Debian: this checks the parts an invoice pipeline gets wrong, not the whole standard."""
    reader = PdfReader(io.BytesIO(content))
    problems = []
    if reader.is_encrypted:
        problems.append("encrypted")
    if "/ID" not in reader.trailer:
        problems.append("trailer without /ID")
    root = reader.trailer["/Root"]
    xmp = reader.xmp_metadata
    if xmp is None:
        problems.append("no XMP metadata")
    else:
        if (str(xmp.pdfaid_part), str(xmp.pdfaid_conformance)) != ("3", "B"):
            problems.append("XMP does not claim PDF/A-3 B")
        raw = root["/Metadata"].get_object().get_data()
        if b"urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#" not in raw:
            problems.append("XMP without the Factur-X extension schema")
    intents = [i.get_object() for i in root.get("/OutputIntents", [])]
    pdfa = [i for i in intents if i.get("/S") == "/GTS_PDFA1"]
    if not pdfa:
        problems.append("no GTS_PDFA1 OutputIntent")
    elif "/DestOutputProfile" not in pdfa[0]:
        problems.append("OutputIntent without its ICC profile")
    associated = [f.get_object() for f in root.get("/AF", [])]
    names = root.get("/Names", {}).get("/EmbeddedFiles", {}).get("/Names", [])
    embedded = [names[i + 1].get_object() for i in range(0, len(names), 2)]
    if not embedded:
        problems.append("no embedded file")
    for spec in embedded:
        name = spec.get("/UF") or spec.get("/F")
        if spec not in associated:
            problems.append(f"{name} not in the catalog's /AF")
        if spec.get("/AFRelationship") not in FACTURX_RELATIONSHIPS:
            problems.append(f"{name} without an AFRelationship Factur-X allows")
        stream = spec["/EF"]["/F"].get_object()
        if stream.get("/Subtype") != "/text/xml":
            problems.append(f"{name} without its MIME type")
    return problems
