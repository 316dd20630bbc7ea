"""The OpenAPI schema: it validates, the docs are served from our own static files, and a
short, bounded schemathesis run against it finds no server errors and no schema violations."""

import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from cpms.models import ApiKeyRole


def test_the_schema_is_served_and_documents_the_error_body(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    schema = response.json()
    assert response.status_code == 200 and schema["openapi"].startswith("3.")
    assert "/api/v1/chargers/" in schema["paths"]
    create = schema["paths"]["/api/v1/commands/"]["post"]
    assert create["responses"]["4XX"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/Error"
    )


def test_the_interactive_docs_use_no_cdn(client):
    page = client.get("/api/docs/").content.decode()
    assert "/static/vendor/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "cdn." not in page and "https://" not in page.split("<body>")[0]


MAX_EXAMPLES = 3


def test_the_api_answers_as_its_schema_says(transactional_db, world, keys):
    """Every operation, a few generated requests each, as tenant A's admin key: no 500s, only
    documented status codes and content types, and bodies that match their schemas."""
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())
    headers = {"Authorization": f"Bearer {keys[ApiKeyRole.ADMIN]}"}
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]
    failures = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 40
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def check(case):
            case.call_and_validate(headers=headers, checks=checks)

        try:
            check()
        except Exception as failure:
            failures[operation.label] = str(failure)[:1500]
    assert not failures, "\n\n".join(f"{label}: {text}" for label, text in failures.items())
