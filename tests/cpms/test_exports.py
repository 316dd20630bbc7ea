"""The one CSV writer: its formula guard, the way back for imports, the filename, the filters."""

import pytest
from django.http import QueryDict

from cpms.exports import csv_download, export_filename, neutralise, refused, restore


@pytest.mark.parametrize(
    "cell", ['=HYPERLINK("http://x","y")', "+1", "-2+3", "@SUM(A1)", "\tx", "\rx", "plain", ""]
)
def test_a_neutralised_cell_is_restored_as_it_was(cell):
    assert restore(neutralise(cell)) == cell


def test_an_apostrophe_before_harmless_text_is_kept():
    assert restore("'quoted") == "'quoted"


def test_the_download_streams_a_header_and_guarded_rows(tenant_a):
    response = csv_download(["a", "b"], iter([["=1+1", 5]]), tenant=tenant_a, filename="x.csv")
    body = b"".join(response.streaming_content).decode()
    assert body == "a,b\r\n'=1+1,5\r\n"
    assert response["Content-Disposition"] == 'attachment; filename="x.csv"'


def test_the_filename_names_the_tenant_and_the_day(tenant_a):
    name = export_filename("chargers", tenant_a)
    assert name.startswith("chargers-tenant-a-20") and name.endswith(".csv")


def test_an_unknown_filter_value_is_refused_with_its_field_named():
    params = QueryDict("state=bogus&kind=")
    assert refused(params, {"kind": ["a"], "state": ["online"]}).startswith("state: 'bogus'")
    assert refused(QueryDict("state=online"), {"state": ["online"]}) is None
