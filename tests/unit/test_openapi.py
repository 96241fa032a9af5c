"""The OpenAPI document is generated from the routes and validates as OpenAPI 3.1."""

from __future__ import annotations

from pathlib import Path

from openapi_spec_validator import validate

from aksio import openapi

ROOT = Path(__file__).resolve().parents[2]


def test_document_covers_every_http_function_and_validates() -> None:
    apis = openapi.function_apis(ROOT)
    document = openapi.build(apis)
    validate(document)  # raises on an invalid document
    manifest = openapi.manifest(ROOT)
    http_functions = {name for name, spec in manifest.items() if spec["trigger"] == "http"}
    assert {api.name for api in apis} == http_functions
    for api in apis:
        for route in api.routes:
            assert any(p.startswith(f"/{api.name}") for p in document["paths"]), route


def test_operations_describe_auth_body_and_errors() -> None:
    document = openapi.build(openapi.function_apis(ROOT))
    patch = document["paths"]["/account"]["patch"]
    assert patch["security"] == [{"firebaseIdToken": []}]
    assert set(patch["responses"]) >= {"200", "400", "401", "413", "415"}
    body = patch["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][body.rsplit("/", 1)[1]]
    assert "displayName" in schema["properties"]
    assert "security" not in document["paths"]["/health"]["get"]
