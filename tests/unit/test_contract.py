"""The API contract: the committed OpenAPI document is what the code generates, and a change
that breaks a client of the previous contract needs a version bump and a changelog entry."""

from __future__ import annotations

import copy
import json
from typing import Any

import contract
import pytest

COMMITTED: dict[str, Any] = json.loads(contract.DOCUMENT.read_text())
CHANGELOG = contract.CHANGELOG.read_text()


def test_the_committed_contract_is_current_and_breaks_nothing_of_the_previous_commit() -> None:
    assert contract.check("HEAD~1") == []


def test_the_committed_contract_has_a_changelog_section_for_its_version() -> None:
    assert contract.changelog_has(COMMITTED["info"]["version"], CHANGELOG)


def edited(change: Any) -> dict[str, Any]:
    new = copy.deepcopy(COMMITTED)
    change(new)
    return new


def schema(doc: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = doc["components"]["schemas"][name]
    return found


def test_a_removed_response_field_is_breaking_and_refused_without_a_bump() -> None:
    assert "name" in schema(COMMITTED, "Deck")["properties"]
    new = edited(lambda d: schema(d, "Deck")["properties"].pop("name"))
    breaks = contract.breaking_changes(COMMITTED, new)
    # named where a client first meets it (each schema is compared once)
    assert breaks == ["GET /decks 200.decks[].name: field removed"]
    problems = contract.gate(COMMITTED, new, CHANGELOG)
    assert len(problems) == 1
    assert "new major version" in problems[0]
    assert "GET /decks 200.decks[].name: field removed" in problems[0]


def bumped(doc: dict[str, Any], version: str) -> dict[str, Any]:
    doc["info"]["version"] = version
    return doc


def test_a_breaking_change_passes_with_a_new_version_and_its_changelog_section() -> None:
    new = bumped(edited(lambda d: schema(d, "Deck")["properties"].pop("name")), "0.2.0")
    assert contract.gate(COMMITTED, new, CHANGELOG) == ["lib/aksio/CHANGELOG.md has no '## 0.2.0' section"]
    assert contract.gate(COMMITTED, new, CHANGELOG + "\n## 0.2.0\n\nDeck.name removed.\n") == []
    patch_only = bumped(copy.deepcopy(new), "0.1.1")  # a patch version is not enough
    assert "new major version" in contract.gate(COMMITTED, patch_only, CHANGELOG + "\n## 0.1.1\n")[0]


def first_enum(doc: dict[str, Any]) -> tuple[str, str]:
    for name, s in doc["components"]["schemas"].items():
        for prop, p in s.get("properties", {}).items():
            if len(p.get("enum", [])) > 1:
                return name, prop
    raise AssertionError("no enum in the contract")


def test_a_removed_enum_value_is_breaking() -> None:
    name, prop = first_enum(COMMITTED)
    gone = schema(COMMITTED, name)["properties"][prop]["enum"][-1]
    new = edited(lambda d: schema(d, name)["properties"][prop]["enum"].remove(gone))
    assert any(f"enum value {gone!r} removed" in b for b in contract.breaking_changes(COMMITTED, new))


def test_a_new_required_request_field_is_breaking_and_a_new_optional_one_is_not() -> None:
    def add(required: bool):  # type: ignore[no-untyped-def]
        def change(d: dict[str, Any]) -> None:
            body = schema(d, "NewDeck")
            body["properties"]["colour"] = {"type": "string"}
            if required:
                body.setdefault("required", []).append("colour")

        return change

    assert contract.breaking_changes(COMMITTED, edited(add(required=False))) == []
    assert "POST /decks body.colour: new required field" in contract.breaking_changes(COMMITTED, edited(add(True)))


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["paths"].pop("/decks/{deck}"), "/decks/{deck}: path removed"),
        (lambda d: d["paths"]["/decks/{deck}"].pop("delete"), "DELETE /decks/{deck}: operation removed"),
        (lambda d: d["paths"]["/decks"]["post"]["responses"].pop("201"), "POST /decks: success status 201 removed"),
    ],
)
def test_removed_paths_operations_and_statuses_are_breaking(change: Any, expected: str) -> None:
    assert expected in contract.breaking_changes(COMMITTED, edited(change))


def test_adding_a_path_is_not_breaking_and_needs_no_new_version() -> None:
    new = edited(lambda d: d["paths"].__setitem__("/decks/{deck}/archive", {"post": {"responses": {}}}))
    assert contract.gate(COMMITTED, new, CHANGELOG) == []
