"""courses through the gateway: a course with two sections, three documents and two decks;
the study queue, stats, generation and the tutor scoped to it see only what is in it;
bad input (past exam date, limits, sections of another course) and another user's course,
decks and documents (404); delete that unlinks, and delete that takes the contents."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import User
from tests.e2e.ai.conftest import OFFLINE_ONLY
from tests.e2e.courses.conftest import CourseClient

pytestmark = [pytest.mark.stack, OFFLINE_ONLY]

MD = "text/markdown"
CELLS = b"# Cell structure\n\nThe cell membrane is a thin layer that surrounds the cell and controls what enters it."
ENERGY = b"# Energy\n\nMitochondria are organelles that release energy from glucose during cellular respiration."
LIGHT = b"# Photosynthesis\n\nChlorophyll is the green pigment that absorbs light in the chloroplasts of plants."
DIVISION = b"# Cell division\n\nThe phases of mitosis include prophase, metaphase, anaphase and telophase."


def ready(client: CourseClient, name: str, data: bytes) -> str:
    doc_id = client.upload(name, MD, data)
    assert client.wait_document(doc_id)["status"] == "ready"
    return doc_id


def build_course(client: CourseClient) -> dict[str, Any]:
    """Biology: sections Cells and Energy; three documents, two decks; plus an outside
    document and deck."""
    course = client.course("Biology", sections=[{"name": "Cells"}, {"name": "Energy"}])
    cells, energy = (s["id"] for s in course["sections"])
    docs = [ready(client, n, d) for n, d in (("cells.md", CELLS), ("energy.md", ENERGY), ("light.md", LIGHT))]
    outside_doc = ready(client, "division.md", DIVISION)
    for doc_id, section in zip(docs, (cells, energy, energy), strict=True):
        moved = client.ok("PATCH", f"/documents/{doc_id}", json={"courseId": course["id"], "sectionId": section})
        assert (moved["courseId"], moved["sectionId"]) == (course["id"], section)
    decks = [client.deck("Cells deck"), client.deck("Energy deck")]
    for deck_id, section in zip(decks, (cells, energy), strict=True):
        moved = client.ok("PATCH", f"/decks/{deck_id}", json={"courseId": course["id"], "sectionId": section})
        assert (moved["courseId"], moved["sectionId"]) == (course["id"], section)
    outside_deck = client.deck("Other")
    return {
        "id": course["id"],
        "sections": (cells, energy),
        "docs": docs,
        "decks": decks,
        "outside_doc": outside_doc,
        "outside_deck": outside_deck,
    }


def test_a_course_scopes_queue_stats_generation_and_the_tutor(client: CourseClient) -> None:
    c = build_course(client)
    cells, energy = c["sections"]
    read = client.ok("GET", f"/courses/{c['id']}")
    assert [s["name"] for s in read["sections"]] == ["Cells", "Energy"]
    assert {d["id"]: d["sectionId"] for d in read["decks"]} == dict(zip(c["decks"], (cells, energy), strict=True))
    assert {d["id"]: d["sectionId"] for d in read["documents"]} == dict(
        zip(c["docs"], (cells, energy, energy), strict=True)
    )
    # the queue and stats of the course, and of one section
    in_cells = client.card(c["decks"][0], "What surrounds the cell?")
    in_energy = client.card(c["decks"][1], "What releases energy?")
    client.card(c["outside_deck"], "Name the phases of mitosis")
    queue = client.ok("GET", "/study-queue", params={"courseId": c["id"]})
    assert {card["id"] for card in queue["cards"]} == {in_cells, in_energy}
    section = client.ok("GET", "/study-queue", params={"courseId": c["id"], "sectionId": cells})
    assert [card["id"] for card in section["cards"]] == [in_cells]
    assert len(client.ok("GET", "/study-queue")["cards"]) == 3
    stats = client.ok("GET", "/stats", params={"courseId": c["id"]})
    assert (stats["cards"]["total"], stats["cards"]["new"]) == (2, 2)
    # generation from the course: its ready documents only, into a new deck of the course
    job = client.wait_job(client.generate(courseId=c["id"], newDeckName="Generated", count=20))
    assert job["status"] == "succeeded", job
    assert sorted(job["documentIds"]) == sorted(c["docs"])
    made = client.ok("GET", "/cards", params={"deckId": job["deckId"], "limit": 100})["cards"]
    assert made
    assert {card["source"]["documentId"] for card in made} <= set(c["docs"])
    assert client.ok("GET", f"/decks/{job['deckId']}")["courseId"] == c["id"]
    # the tutor, like a notebook: the course's documents only
    scoped = client.ok("POST", "/chat-reply", json={"message": "Which pigment absorbs light?", "courseId": c["id"]})
    assert {x["documentId"] for x in scoped["message"]["citations"]} == {c["docs"][2]}
    outside = client.ok("POST", "/chat-reply", json={"message": "What are the phases of mitosis?", "courseId": c["id"]})
    assert outside["message"]["citations"] == []
    unscoped = client.ok("POST", "/chat-reply", json={"message": "What are the phases of mitosis?"})
    assert {x["documentId"] for x in unscoped["message"]["citations"]} == {c["outside_doc"]}
    # a document outside the course named with it
    refused = client.call(
        "POST", "/chat-reply", json={"message": "Mitosis?", "courseId": c["id"], "documentIds": [c["outside_doc"]]}
    )
    assert (refused.status_code, refused.json()["error"]["code"]) == (404, "document_not_found")


def test_another_users_course_decks_and_documents_are_not_found(
    client_for: Callable[[User], CourseClient], new_user: Callable[[], User]
) -> None:
    alice, bob = client_for(new_user()), client_for(new_user())
    course = alice.course("Alice's", sections=[{"name": "One"}])
    section = course["sections"][0]["id"]
    alice_deck = alice.deck("Alice deck")
    alice_doc = ready(alice, "a.md", CELLS)
    bob_deck = bob.deck("Bob deck")
    cid = course["id"]
    for method, path, body in (
        ("GET", f"/courses/{cid}", None),
        ("PATCH", f"/courses/{cid}", {"name": "Mine"}),
        ("DELETE", f"/courses/{cid}", None),
        ("PATCH", f"/decks/{bob_deck}", {"courseId": cid}),
        ("PATCH", f"/decks/{alice_deck}", {"courseId": cid}),
        ("PATCH", f"/documents/{alice_doc}", {"courseId": cid}),
        ("POST", "/generate-flashcards", {"courseId": cid, "newDeckName": "x"}),
        ("POST", "/chat-reply", {"message": "What is a cell?", "courseId": cid}),
    ):
        response = bob.call(method, path, json=body)
        assert response.status_code == 404, (method, path, response.text)
    for path in ("/study-queue", "/stats"):
        response = bob.call("GET", path, params={"courseId": cid})
        assert (response.status_code, response.json()["error"]["code"]) == (404, "course_not_found"), path
    # a section of another course (of the same user)
    other = alice.course("Other")
    wrong = alice.call("PATCH", f"/decks/{alice_deck}", json={"courseId": other["id"], "sectionId": section})
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (404, "section_not_found")
    assert "courseId" not in alice.ok("GET", f"/decks/{alice_deck}")
    assert alice.ok("GET", f"/courses/{cid}")["name"] == "Alice's"


def test_bad_input_and_limits(client: CourseClient) -> None:
    past = (datetime.now(UTC) - timedelta(days=2)).date().isoformat()
    response = client.call("POST", "/courses", json={"name": "Late", "examDate": past})
    assert (response.status_code, response.json()["error"]["code"]) == (400, "exam_date_in_past")
    course = client.course("Exam", examDate=(datetime.now(UTC) + timedelta(days=30)).date().isoformat())
    response = client.call("PATCH", f"/courses/{course['id']}", json={"examDate": past})
    assert response.status_code == 400
    sections = [{"name": f"S{i}"} for i in range(201)]
    response = client.call("PATCH", f"/courses/{course['id']}", json={"sections": sections})
    assert response.status_code == 409
    assert response.json()["error"]["details"] == {"limit": 200}
    full = client.ok("PATCH", f"/courses/{course['id']}", json={"sections": sections[:200]})
    assert len(full["sections"]) == 200
    # reorder, rename and drop sections by id
    first, second = full["sections"][0]["id"], full["sections"][1]["id"]
    order = [{"id": second, "name": "B"}, {"id": first, "name": "A"}]
    reordered = client.ok("PATCH", f"/courses/{course['id']}", json={"sections": order})
    assert [(s["id"], s["name"]) for s in reordered["sections"]] == [(second, "B"), (first, "A")]
    unknown = client.call("PATCH", f"/courses/{course['id']}", json={"sections": [{"id": "nope", "name": "x"}]})
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "section_not_found")
    assert client.ok("GET", f"/courses/{course['id']}")["examDate"] == course["examDate"]
    for i in range(99):
        client.course(f"C{i}")
    response = client.call("POST", "/courses", json={"name": "one too many"})
    assert response.status_code == 409
    assert response.json()["error"]["details"] == {"limit": 100}
    # cursor pages over all 100
    seen, cursor = [], None
    while True:
        page = client.ok("GET", "/courses", params={"limit": 40} | ({"cursor": cursor} if cursor else {}))
        seen += [c["id"] for c in page["courses"]]
        cursor = page.get("nextCursor")
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 100


def test_delete_unlinks_or_takes_the_contents(client: CourseClient) -> None:
    keep = client.course("Keep contents", sections=[{"name": "Only"}])
    section = keep["sections"][0]["id"]
    deck = client.deck("Stays")
    client.card(deck, "Stays?")
    doc = ready(client, "stays.md", CELLS)
    client.ok("PATCH", f"/decks/{deck}", json={"courseId": keep["id"], "sectionId": section})
    client.ok("PATCH", f"/documents/{doc}", json={"courseId": keep["id"]})
    # a removed section leaves its deck in the course, in no section
    client.ok("PATCH", f"/courses/{keep['id']}", json={"sections": []})
    moved = client.ok("GET", f"/decks/{deck}")
    assert (moved["courseId"], moved.get("sectionId")) == (keep["id"], None)
    gone = client.ok("DELETE", f"/courses/{keep['id']}")
    assert (gone["decksUnlinked"], gone["documentsUnlinked"]) == (1, 1)
    assert client.call("GET", f"/courses/{keep['id']}").status_code == 404
    assert "courseId" not in client.ok("GET", f"/decks/{deck}")
    assert "courseId" not in client.ok("GET", f"/documents/{doc}")
    assert client.ok("GET", f"/decks/{deck}")["cardCount"] == 1

    take = client.course("Take contents")
    client.ok("PATCH", f"/decks/{deck}", json={"courseId": take["id"]})
    client.ok("PATCH", f"/documents/{doc}", json={"courseId": take["id"]})
    gone = client.ok("DELETE", f"/courses/{take['id']}", params={"deleteContents": "true"})
    assert (gone["decksDeleted"], gone["documentsDeleted"]) == (1, 1)
    assert client.call("GET", f"/decks/{deck}").status_code == 404
    assert client.call("GET", f"/documents/{doc}").status_code == 404
    assert client.call("DELETE", f"/courses/{take['id']}").status_code == 404


def test_concurrent_creates_stop_at_the_limit(client: CourseClient, firestore_db: Any) -> None:
    """The limit is checked in the create's transaction: of 6 creates racing for the last
    free place, one gets it."""
    from concurrent.futures import ThreadPoolExecutor

    col = firestore_db.collection("users").document(client.user.uid).collection("courses")
    now = datetime.now(UTC)
    batch = firestore_db.batch()
    for i in range(99):
        batch.set(col.document(f"pre{i:03d}"), {"name": f"C{i}", "sections": [], "createdAt": now, "updatedAt": now})
    batch.commit()

    def create(i: int) -> int:
        return client.call("POST", "/courses", json={"name": f"race {i}"}).status_code

    with ThreadPoolExecutor(6) as pool:
        codes = list(pool.map(create, range(6)))
    assert sorted(codes) == [201, 409, 409, 409, 409, 409]
    assert len(list(col.select([]).stream())) == 100
