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
