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


def test_links_name_real_operations_and_their_parameters() -> None:
    document = openapi.build(openapi.function_apis(ROOT))
    operations = {op["operationId"]: op for item in document["paths"].values() for op in item.values()}
    count = 0
    for operation in operations.values():
        for response in operation["responses"].values():
            for link in response.get("links", {}).values():
                target = operations[link["operationId"]]
                names = {(p["in"], p["name"]) for p in target.get("parameters", [])}
                for key in link.get("parameters", {}):
                    where, _, name = key.rpartition(".")
                    assert (where or "path", name) in names, (link, key)
                if "requestBody" in link:
                    assert "requestBody" in target, link
                count += 1
    assert count >= 20


def test_an_idempotent_create_documents_the_200_of_its_replay() -> None:
    document = openapi.build(openapi.function_apis(ROOT))
    for path, first in (("/decks", "201"), ("/cards", "201"), ("/generate-flashcards", "202")):
        responses = document["paths"][path]["post"]["responses"]
        assert responses["200"]["content"] == responses[first]["content"], path
        assert responses["200"]["links"] == responses[first]["links"], path
