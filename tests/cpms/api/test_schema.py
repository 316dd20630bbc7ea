"""The OpenAPI schema: it validates, every operation shows examples that match their schemas,
the docs are served from our own static files, and a short, bounded schemathesis run against
it finds no server errors and no schema violations."""

import jsonschema
import pytest
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


HTTP_METHODS = {"get", "put", "patch", "post", "delete"}
WRITES = {"put", "patch", "post"}


@pytest.fixture
def schema(client):
    return client.get("/api/schema/", HTTP_ACCEPT="application/json").json()


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield f"{method.upper()} {path}", method, operation


def successes(operation):
    return {code: r for code, r in operation["responses"].items() if code.startswith("2")}


def test_every_operation_shows_a_response_example_and_every_write_a_request_example(schema):
    missing = []
    for label, method, operation in operations(schema):
        body = operation.get("requestBody")
        if method in WRITES and body and not body["content"]["application/json"].get("examples"):
            missing.append(f"{label}: no request example")
        answers = successes(operation)
        if not answers:
            missing.append(f"{label}: no success response documented")
        for code, response in answers.items():
            for media, content in response.get("content", {}).items():
                if not content.get("examples"):
                    missing.append(f"{label}: no {code} {media} example")
        if method != "delete" and not any(r.get("content") for r in answers.values()):
            missing.append(f"{label}: no response body documented")
    assert not missing, "\n".join(missing)


def as_json_schema(node):
    """OpenAPI 3.0 schema -> JSON Schema, strict about unknown keys so that an example with a
    misspelt or stale field fails."""
    if isinstance(node, list):
        return [as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: as_json_schema(value) for key, value in node.items() if key != "nullable"}
    if "properties" in converted and "additionalProperties" not in converted:
        converted["additionalProperties"] = False
    if node.get("nullable"):
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


def test_every_example_matches_its_schema(schema):
    components = as_json_schema(schema["components"])
    wrong = []
    for label, _, operation in operations(schema):
        contents = [("request", operation.get("requestBody", {}).get("content", {}))]
        contents += [(code, r.get("content", {})) for code, r in successes(operation).items()]
        for where, content in contents:
            for media, described in content.items():
                shape = {**as_json_schema(described["schema"]), "components": components}
                for name, example in described.get("examples", {}).items():
                    try:
                        jsonschema.Draft202012Validator(shape).validate(example["value"])
                    except jsonschema.ValidationError as error:
                        wrong.append(f"{label} {where} {media} {name}: {error.message}")
    assert not wrong, "\n".join(wrong)


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
