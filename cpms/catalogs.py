"""Compile the project's translation catalogs (`locale/**/django.po` -> `.mo`) when stale.

In Python (polib) rather than GNU msgfmt, so that a first run needs no system package; the
placeholder checks msgfmt would make are tests (tests/test_i18n.py). `make demo` and `make test`
run it; `python -m cpms.catalogs` does it by hand.
"""

from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent


def project_catalogs() -> list[Path]:
    return sorted(
        p for p in ROOT.glob("**/locale/*/LC_MESSAGES/django.po") if ".venv" not in p.parts
    )


def compile_catalogs() -> list[Path]:
    """Write each catalog's .mo beside it when missing or older; returns those written."""
    written = []
    for po_path in project_catalogs():
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
        written.append(mo_path)
    return written


if __name__ == "__main__":
    for path in compile_catalogs():
        print(f"compiled {path.relative_to(ROOT)}")
