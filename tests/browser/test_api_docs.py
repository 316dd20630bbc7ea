"""The interactive API docs work under the Content-Security-Policy (no inline script)."""

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_api_docs_list_the_endpoints_without_a_policy_violation(server_url, page):
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{server_url}/api/docs/")
    # Swagger UI ran (its script is a file of ours) and drew the schema's operations (the
    # tags below the fold it draws as they scroll into view).
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    assert errors == []
