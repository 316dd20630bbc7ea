import logging

from django.urls import reverse

from cpms.logs import RefusalsInOneLine


def record(status: int) -> logging.LogRecord:
    try:
        raise PermissionError("refused")
    except PermissionError:
        import sys

        exc_info = sys.exc_info()
    entry = logging.LogRecord("django.request", logging.WARNING, __file__, 1, "x", (), exc_info)
    entry.status_code = status
    return entry


def test_a_refusal_is_logged_without_its_traceback_and_a_server_error_with_it():
    refusal, failure = record(403), record(500)

    RefusalsInOneLine().filter(refusal)
    RefusalsInOneLine().filter(failure)

    assert refusal.exc_info is None
    assert failure.exc_info is not None


def test_a_viewer_refused_a_page_leaves_one_line_in_the_log(client, bob, tenant_a, caplog):
    client.force_login(bob)
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.get(reverse("member_list", kwargs={"tenant_slug": "tenant-a"}))

    assert response.status_code == 403
    (entry,) = [r for r in caplog.records if r.name == "django.request"]
    assert entry.status_code == 403
    assert RefusalsInOneLine().filter(entry) and entry.exc_info is None
