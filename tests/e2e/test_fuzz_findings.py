"""What fuzzing the API (schemathesis against /openapi.json) found, each pinned over HTTP
through the gateway: a setting sent as null was a 500; a path holding a control character got
the framework's HTML 404; an idempotent retry answered an undocumented 200; five operations'
schemas admitted bodies their validation rejects (and the webhook's signature header was not
in the document)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests
from jsonschema import Draft202012Validator

from tests.conftest import User
from tests.e2e.test_http_contract import assert_error

pytestmark = pytest.mark.stack

SETTINGS_NULLS: dict[str, Any] = {  # the body schemathesis sent: every other field null
    "buryNewSiblings": None,
    "buryReviewSiblings": None,
    "dayStartsAtHour": None,
    "desiredRetention": None,
    "draftGeneratedCards": 0,
    "learningStepsMinutes": None,
    "leechAction": None,
    "leechThreshold": None,
    "maximumIntervalDays": None,
    "newCardsPerDay": None,
    "relearningStepsMinutes": None,
    "reminderHour": None,
    "reviewsPerDay": None,
    "timezone": None,
}
NOT_NULL = set(SETTINGS_NULLS) - {"reminderHour", "draftGeneratedCards"}


@pytest.fixture(scope="module")
def document(gateway_url: str) -> dict[str, Any]:
    response = requests.get(f"{gateway_url}/openapi.json", timeout=10)
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


def body_schema(document: dict[str, Any], path: str, method: str = "post") -> Draft202012Validator:
    """A validator of the operation's documented request body (its $refs resolved in the document)."""
    schema = document["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
    return Draft202012Validator({**schema, "components": document["components"]})


def post(gateway_url: str, user: User, path: str, body: Any) -> requests.Response:
    return requests.post(f"{gateway_url}{path}", json=body, headers=user.headers, timeout=30)


def new_deck(gateway_url: str, user: User) -> str:
    response = post(gateway_url, user, "/decks", {"name": "Fuzzed"})
    assert response.status_code == 201, response.text
    deck: str = response.json()["id"]
    return deck


# -- a setting sent as null: 500 → 400 naming each field, nothing stored ------------------------


def test_null_settings_are_a_400_naming_each_field_and_change_nothing(gateway_url: str, user: User) -> None:
    account = f"{gateway_url}/account"
    before = requests.get(account, headers=user.headers, timeout=10).json()
    for url, body, prefix in (
        (f"{account}/settings", SETTINGS_NULLS, ""),
        (account, {"settings": SETTINGS_NULLS}, "settings."),
    ):
        response = requests.patch(url, json=body, headers=user.headers, timeout=10)
        error = assert_error(response, 400, "invalid_argument")
        assert {d["field"] for d in error["details"]} == {prefix + name for name in NOT_NULL}  # type: ignore[union-attr]
    for name in sorted(NOT_NULL):  # each alone too
        response = requests.patch(f"{account}/settings", json={name: None}, headers=user.headers, timeout=10)
        assert [d["field"] for d in assert_error(response, 400, "invalid_argument")["details"]] == [name]  # type: ignore[union-attr]
    assert requests.get(account, headers=user.headers, timeout=10).json() == before
    # null stays meaningful where the schema says so: no reminder
    off = requests.patch(f"{account}/settings", json={"reminderHour": None}, headers=user.headers, timeout=10)
    assert off.status_code == 200, off.text
    assert "reminderHour" not in off.json()


def test_the_settings_schema_admits_null_only_where_it_means_something(document: dict[str, Any]) -> None:
    patch = body_schema(document, "/account/settings", "patch")
    assert not patch.is_valid(SETTINGS_NULLS)
    assert not patch.is_valid({"timezone": None})
    assert patch.is_valid({"reminderHour": None, "timezone": "Europe/Oslo"})


# -- control characters in a path: the framework's HTML 404 → the JSON error shape --------------

CONTROL = "%C2%8E%12%C3%83%2B%0A"  # what schemathesis sent: U+008E, U+0012, Ã, +, a line feed


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"/cards/{CONTROL}"),
        ("PATCH", f"/cards/{CONTROL}"),
        ("DELETE", f"/cards/{CONTROL}"),
        ("POST", f"/cards/{CONTROL}/suspend"),
        ("POST", f"/cards/{CONTROL}/unsuspend"),
        ("GET", f"/decks/{CONTROL}"),
        ("GET", f"/documents/{CONTROL}"),
        ("GET", f"/chat-reply/{CONTROL}"),
        ("GET", f"/generate-flashcards/{CONTROL}"),
        ("GET", f"/generate-flashcards/{CONTROL}/drafts"),
        ("GET", f"/review-card/{CONTROL}"),
        ("GET", "/cards/%0A"),
        ("GET", "/health/%0A"),
        ("GET", "/cards/robots.txt"),
        ("GET", "/health/favicon.ico"),
        ("GET", "/account/%0A/%0D"),
    ],
)
def test_paths_with_control_characters_answer_the_json_error_shape(
    gateway_url: str, user: User, method: str, path: str
) -> None:
    kw: dict[str, Any] = {"json": {"front": "f"}} if method == "PATCH" else {}
    response = requests.request(method, f"{gateway_url}{path}", headers=user.headers, timeout=10, **kw)
    assert response.headers["Content-Type"] == "application/json", response.text
    error = assert_error(response, 404, response.json()["error"]["code"])
    assert str(error["code"]).endswith("not_found")


def test_an_event_function_answers_the_json_error_shape_too(gateway_url: str) -> None:
    assert_error(requests.get(f"{gateway_url}/process-upload", timeout=10), 405, "method_not_allowed")
    response = requests.post(f"{gateway_url}/process-upload/%0A", data=b"x", timeout=10)
    assert response.headers["Content-Type"] == "application/json", response.text
    assert response.json()["error"]["requestId"] == response.headers["X-Request-Id"]


# -- idempotent retries: an undocumented 200 → documented, with the create's links -------------


@pytest.mark.parametrize(("path", "first"), [("/decks", "201"), ("/cards", "201"), ("/generate-flashcards", "202")])
def test_the_200_of_a_retried_create_is_documented(document: dict[str, Any], path: str, first: str) -> None:
    responses = document["paths"][path]["post"]["responses"]
    assert {first, "200"} <= set(responses)
    assert responses["200"]["content"] == responses[first]["content"]
    assert responses["200"]["links"] == responses[first]["links"]


def test_retried_creates_answer_200_with_what_the_first_made(gateway_url: str, user: User) -> None:
    deck = {"id": f"d{uuid.uuid4().hex[:12]}", "name": "Retried"}
    first, again = post(gateway_url, user, "/decks", deck), post(gateway_url, user, "/decks", deck)
    assert (first.status_code, again.status_code) == (201, 200), again.text
    assert again.json()["id"] == first.json()["id"] == deck["id"]
    card = {"deckId": deck["id"], "front": "Capital of Norway?", "back": "Oslo"}
    first, again = post(gateway_url, user, "/cards", card), post(gateway_url, user, "/cards", card)
    assert (first.status_code, again.status_code) == (201, 200), again.text
    assert [c["id"] for c in again.json()["cards"]] == [c["id"] for c in first.json()["cards"]]


# -- links: create → read / update / delete ---------------------------------------------------


def test_creates_link_to_what_uses_what_they_made(document: dict[str, Any]) -> None:
    operations = {op["operationId"]: op for item in document["paths"].values() for op in item.values()}
    expected = {
        "decks.create": {"decks.read", "decks.rename", "decks.delete", "cards.create"},
        "cards.create": {"cards.read", "cards.edit", "cards.delete", "cards.suspend", "review-card.review"},
        "review-card.review": {"review-card.read", "review-card.undo"},
        "create-upload.create": {"documents.read", "documents.delete"},
        "generate-flashcards.start": {"generate-flashcards.read", "generate-flashcards.accept"},
        "chat-reply.reply": {"chat-reply.read", "chat-reply.delete"},
    }
    for source, targets in expected.items():
        linked = {
            link["operationId"]
            for response in operations[source]["responses"].values()
            for link in response.get("links", {}).values()
        }
        assert targets <= linked, source
    for operation in operations.values():  # every link names a real operation and its parameters
        for response in operation["responses"].values():
            for link in response.get("links", {}).values():
                target = operations[link["operationId"]]
                names = {p["name"] for p in target.get("parameters", [])}
                assert {p.split(".")[-1] for p in link.get("parameters", {})} <= names, link


def test_following_the_links_of_a_created_deck_works(gateway_url: str, user: User, document: dict[str, Any]) -> None:
    created = post(gateway_url, user, "/decks", {"name": "Linked"}).json()
    links = document["paths"]["/decks"]["post"]["responses"]["201"]["links"]
    assert links["read"]["parameters"] == {"deck": "$response.body#/id"}
    read = requests.get(f"{gateway_url}/decks/{created['id']}", headers=user.headers, timeout=10)
    assert read.status_code == 200
    assert links["addCard"]["requestBody"] == {"deckId": "$response.body#/id"}
    card = post(gateway_url, user, "/cards", {"deckId": created["id"], "front": "a", "back": "b"})
    assert card.status_code == 201, card.text


# -- schemas that admitted what validation rejects ----------------------------------------------


def test_new_card_schema_says_basic_or_cloze(gateway_url: str, user: User, document: dict[str, Any]) -> None:
    schema = body_schema(document, "/cards")
    deck = new_deck(gateway_url, user)
    rejected: list[tuple[dict[str, Any], str]] = [
        ({"deckId": deck, "back": None, "cloze": None, "front": None, "tags": ["x"]}, "invalid_argument"),  # fuzzed
        ({"deckId": deck, "front": "only a front"}, "invalid_argument"),
        ({"deckId": deck, "front": "f", "back": "b", "cloze": "{{c1::both}}"}, "invalid_argument"),
        ({"deckId": deck, "cloze": "no deletion in it"}, "invalid_cloze"),
        ({"deckId": deck, "cloze": "{{c0::zero is no deletion}}"}, "invalid_cloze"),
    ]
    for body, code in rejected:
        assert not schema.is_valid(body), body
        assert_error(post(gateway_url, user, "/cards", body), 400, code)
    accepted: list[dict[str, Any]] = [
        {"deckId": deck, "front": "f", "back": "b", "cloze": None},
        {"deckId": deck, "cloze": "{{c2::Oslo}} is the capital of {{c1::Norway}}", "front": None},
        {"deckId": deck, "cloze": "x {{c010::y}} z"},
    ]
    for body in accepted:
        assert schema.is_valid(body), body
        response = post(gateway_url, user, "/cards", body)
        assert response.status_code == 201, response.text
    tags = document["components"]["schemas"]["NewCard"]["properties"]["tags"]["items"]
    assert tags["pattern"].startswith("^[^\\t-\\r ")  # whitespace spelled out: engines agree on it


def test_generate_request_schema_says_one_source_and_one_deck(
    gateway_url: str, user: User, document: dict[str, Any]
) -> None:
    schema = body_schema(document, "/generate-flashcards")
    nulls = {"deckId": None, "documentIds": None, "newDeckName": None, "text": None}
    rejected: list[dict[str, Any]] = [
        {"count": 20, "draft": False, "types": ["basic"], "language": None, "jobId": None, **nulls},  # fuzzed
        {"text": "Photosynthesis makes sugar.", "documentIds": ["a"], "newDeckName": "Bio"},
        {"text": "Photosynthesis makes sugar.", "deckId": "a", "newDeckName": "Bio"},
        {"text": " \n\t", "newDeckName": "Bio"},
        {"text": "Photosynthesis makes sugar.", "newDeckName": "   "},
    ]
    for body in rejected:
        assert not schema.is_valid(body), body
        assert_error(post(gateway_url, user, "/generate-flashcards", body), 400, "invalid_argument")
    body = {**nulls, "text": "Photosynthesis turns light into sugar in the leaves.", "newDeckName": "Biology"}
    assert schema.is_valid(body)
    response = post(gateway_url, user, "/generate-flashcards", body | {"count": 1, "types": ["basic"]})
    assert response.status_code == 202, response.text


def test_upload_schema_lists_the_content_types(gateway_url: str, user: User, document: dict[str, Any]) -> None:
    schema = body_schema(document, "/create-upload")
    fuzzed = {"contentType": "0", "filename": "0", "sizeBytes": 2}
    assert not schema.is_valid(fuzzed)
    assert_error(post(gateway_url, user, "/create-upload", fuzzed), 400, "invalid_argument")
    body = fuzzed | {"contentType": "text/markdown", "filename": "notes.md"}
    assert schema.is_valid(body)
    assert post(gateway_url, user, "/create-upload", body).status_code == 201


def test_review_schema_says_which_ratings(gateway_url: str, user: User, document: dict[str, Any]) -> None:
    schema = body_schema(document, "/review-card")
    deck = new_deck(gateway_url, user)
    card = post(gateway_url, user, "/cards", {"deckId": deck, "front": "2+2", "back": "4"}).json()["cards"][0]["id"]
    for rating in (0, 5, "", "meh", 2.5):
        body = {"cardId": card, "reviewId": f"r{uuid.uuid4().hex[:12]}", "rating": rating}
        assert not schema.is_valid(body), body
        assert post(gateway_url, user, "/review-card", body).status_code == 400
    body = {"cardId": card, "reviewId": f"r{uuid.uuid4().hex[:12]}", "rating": "good"}
    assert schema.is_valid(body)
    assert post(gateway_url, user, "/review-card", body).status_code == 200


def test_the_webhook_documents_its_signature_and_event(gateway_url: str, document: dict[str, Any]) -> None:
    operation = document["paths"]["/stripe-webhook"]["post"]
    header = next(p for p in operation["parameters"] if p["in"] == "header")
    assert (header["name"], header["required"]) == ("Stripe-Signature", True)
    event = body_schema(document, "/stripe-webhook")
    assert not event.is_valid({"id": "evt_1", "type": "x"})  # created and data.object are required too
    assert event.is_valid({"id": "evt_1", "type": "x", "created": 1, "data": {"object": {}}})
    unsigned = requests.post(f"{gateway_url}/stripe-webhook", json={"id": "evt_1"}, timeout=10)
    assert_error(unsigned, 400, "invalid_signature")
