"""Importing cards from a text file through the stack: create, PUT to the signed URL, start,
the job (Cloud Tasks), the deck and its cards; a bad file fails with its line numbers and
creates nothing."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import requests

from tests.conftest import User
from tests.e2e.ai.conftest import Client

pytestmark = pytest.mark.stack


def upload(client: Client, data: bytes, name: str = "set.txt", deck: str | None = "Imported") -> dict[str, Any]:
    body: dict[str, Any] = {"filename": name, "sizeBytes": len(data), "contentType": "text/plain"}
    if deck:
        body["deckName"] = deck
    created = client.ok("POST", "/account/imports", 201, json=body)
    up = created["upload"]
    r = requests.put(up["url"], data=data, headers=up["headers"], timeout=60)
    assert r.status_code == 200, r.text
    return dict(created["import"])


def wait_import(client: Client, import_id: str, timeout: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        data: dict[str, Any] = client.ok("GET", f"/account/imports/{import_id}")
        if data["status"] in ("succeeded", "failed"):
            return data
        assert time.monotonic() < deadline, f"import still {data['status']}"
        time.sleep(0.3)


def test_quizlet_and_anki_text_exports_become_cards(client_for: Callable[[User], Client], user: User) -> None:
    client = client_for(user)
    quizlet = "".join(f"term {i}\tdefinition {i}\n" for i in range(120)).encode()
    imp = upload(client, quizlet)
    assert imp["status"] == "awaiting_upload"
    assert client.ok("POST", f"/account/imports/{imp['id']}/start", 202)["status"] == "queued"
    done = wait_import(client, imp["id"])
    assert done["status"] == "succeeded", done
    assert done["result"] == {"notes": 120, "cardsCreated": 120, "cardsExisting": 0}
    cards = client.ok("GET", "/cards", params={"deckId": done["deckId"], "limit": 100})
    assert len(cards["cards"]) == 100
    assert cards["nextCursor"]
    deck = client.ok("GET", f"/decks/{done['deckId']}")
    assert deck["name"] == "Imported"
    # starting again answers the same import and imports nothing more
    assert client.ok("POST", f"/account/imports/{imp['id']}/start", 202)["status"] == "succeeded"
    kinds = [a["kind"] for a in client.ok("GET", "/account/activity")["activity"]]
    assert kinds.count("import_done") == 1

    anki = (
        b"#separator:tab\n#html:true\n#notetype column:1\n#tags column:4\n"
        b"Basic\t<b>ATP</b>\tenergy<br>currency\tbio\n"
        b"Cloze\t{{c1::Oslo}} is in {{c2::Norway}}\t\tgeo\n"
    )
    imp = upload(client, anki, "anki.txt", deck="Mixed")
    client.ok("POST", f"/account/imports/{imp['id']}/start", 202)
    done = wait_import(client, imp["id"])
    assert done["result"] == {"notes": 2, "cardsCreated": 3, "cardsExisting": 0}
    listed = client.ok("GET", "/cards", params={"deckId": done["deckId"]})["cards"]
    basic = next(c for c in listed if c["kind"] == "basic")
    assert (basic["front"], basic["back"]) == ("ATP", "energy\ncurrency")
    assert sorted(c["kind"] for c in listed) == ["basic", "cloze", "cloze"]


def test_a_file_with_bad_lines_fails_with_their_numbers_and_creates_nothing(
    client_for: Callable[[User], Client], user: User
) -> None:
    client = client_for(user)
    imp = upload(client, b"a\tb\nc\td\te\nf\tg\nh\n")
    client.ok("POST", f"/account/imports/{imp['id']}/start", 202)
    done = wait_import(client, imp["id"])
    assert done["status"] == "failed"
    assert done["error"]["code"] == "bad_lines"
    assert [d["line"] for d in done["error"]["details"]] == [2, 4]
    assert client.ok("GET", "/decks")["decks"] == []
    assert client.ok("GET", "/cards")["cards"] == []


def test_start_before_the_upload_is_a_409(client_for: Callable[[User], Client], user: User) -> None:
    client = client_for(user)
    created = client.ok("POST", "/account/imports", 201, json={"filename": "x.csv", "sizeBytes": 10})
    r = client.call("POST", f"/account/imports/{created['import']['id']}/start")
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "upload_missing"
    big = client.call("POST", "/account/imports", json={"filename": "x.csv", "sizeBytes": 201 * 1024 * 1024})
    assert big.status_code == 400
    assert client.call("GET", "/account/imports/nope").status_code == 404


def test_a_deck_exported_and_imported_again_gives_the_same_cards(  # as CSV and as .apkg
    client_for: Callable[[User], Client], user: User
) -> None:
    from tests.e2e.account.test_export import wait_export

    client = client_for(user)
    deck = client.ok("POST", "/decks", 201, json={"name": "Round trip"})["id"]
    for front, back in (("What is ATP?", 'The energy currency, "ATP"'), ("Two\nlines", "a, b; c\tt")):
        client.ok("POST", "/cards", 201, json={"deckId": deck, "front": front, "back": back, "tags": ["bio"]})
    client.ok("POST", "/cards", 201, json={"deckId": deck, "cloze": "{{c1::Oslo}} is in {{c2::Norway}}"})
    original = client.ok("GET", "/cards", params={"deckId": deck})["cards"]

    def content(cards: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
        return sorted((c["kind"], c["front"], c["back"]) for c in cards)

    started = client.ok("POST", "/account/exports/deck", 202, json={"deckId": deck, "format": "csv"})
    done = wait_export(client, started["id"])
    assert (done["status"], done["format"], done["counts"]) == ("succeeded", "csv", {"cards": 4})
    csv_file = requests.get(done["downloadUrl"], timeout=30).content
    imp = upload(client, csv_file, "round-trip.csv", deck="Round trip again")
    client.ok("POST", f"/account/imports/{imp['id']}/start", 202)
    again = wait_import(client, imp["id"])
    assert again["result"] == {"notes": 3, "cardsCreated": 4, "cardsExisting": 0}
    copied = client.ok("GET", "/cards", params={"deckId": again["deckId"]})["cards"]
    assert content(copied) == content(original)
    assert all("bio" in c["tags"] for c in copied if c["kind"] == "basic")

    apkg = client.ok("POST", "/account/exports/deck", 202, json={"deckId": deck, "format": "apkg"})
    made = wait_export(client, apkg["id"])
    assert made["counts"] == {"cards": 4}
    package = requests.get(made["downloadUrl"], timeout=30).content
    imp = upload(client, package, "round-trip.apkg", deck="From the package")
    client.ok("POST", f"/account/imports/{imp['id']}/start", 202)
    back = wait_import(client, imp["id"])
    assert back["result"] == {
        "notes": 3,
        "cardsCreated": 4,
        "cardsExisting": 0,
        "mediaSkipped": 0,
        "notesSkipped": 0,
        "reviewsRead": 0,
        "cardsScheduled": 0,
    }
    from_package = client.ok("GET", "/cards", params={"deckId": back["deckId"]})["cards"]

    # an Anki field is HTML: a run of spaces or a tab inside a line reads as one space
    def spaced(cards: list[tuple[str, str, str]]) -> list[tuple[str, ...]]:
        return [tuple("\n".join(" ".join(line.split()) for line in f.split("\n")) for f in c) for c in cards]

    assert spaced(content(from_package)) == spaced(content(original))
    assert content(from_package) != content(original)  # the tab of one back is the only difference
    broken = upload(client, b"PK\x03\x04 but not really a zip", "broken.apkg")
    client.ok("POST", f"/account/imports/{broken['id']}/start", 202)
    failed = wait_import(client, broken["id"])
    assert (failed["status"], failed["error"]["code"]) == ("failed", "not_a_zip")
    missing = client.call("POST", "/account/exports/deck", json={"deckId": "nope", "format": "csv"})
    assert missing.status_code == 404


def test_an_anki_package_with_history_keeps_each_card_in_its_schedule(
    client_for: Callable[[User], Client], user: User, firestore_db: Any
) -> None:
    """A package made by Anki's own library (tests/ankideck.py): the reviewed cards come in
    with their FSRS memory state, due at their last review plus Anki's interval; a card never
    reviewed is new; an imported card is then reviewed like any other."""
    from datetime import UTC, datetime, timedelta

    from fsrs.scheduler import DEFAULT_PARAMETERS

    from tests import ankideck
    from tests.fsrs6_reference import memory_state
    from tests.unit.account.test_apkg_history import reviews_of

    client = client_for(user)
    made = ankideck.package(notes=30, revlog=240, cloze_share=0.0, seed=5)
    imp = upload(client, made.data, "biology.apkg", deck="Biology")
    client.ok("POST", f"/account/imports/{imp['id']}/start", 202)
    done = wait_import(client, imp["id"])
    assert done["status"] == "succeeded", done
    reviewed = {key: rows for key, rows in made.histories.items() if reviews_of(rows)}
    assert done["result"]["reviewsRead"] == 240
    assert done["result"]["cardsScheduled"] == len(reviewed)
    cards = client.ok("GET", "/cards", params={"deckId": done["deckId"], "limit": 100})["cards"]
    assert len(cards) == 30
    by_note = {int(c["front"].removeprefix("Term ")): c for c in cards}
    parameters = DEFAULT_PARAMETERS  # a new user's: FSRS-6's defaults
    for n, card in by_note.items():
        rows = reviewed.get(f"{n}:0")
        if rows is None:
            assert (card["state"], card.get("stability")) == ("new", None)
            continue
        last = max(r for r in rows if r[1])
        at = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=last[0])
        assert datetime.fromisoformat(card["lastReview"]) == at
        if last[3] > 0:  # a review card: due after Anki's interval
            assert card["state"] == "review"
            assert datetime.fromisoformat(card["due"]) == at + timedelta(days=last[3])
        else:  # in a (re)learning step: due after the step's seconds
            assert card["state"] in ("learning", "relearning")
            assert datetime.fromisoformat(card["due"]) == at + timedelta(seconds=-last[3])
        stability, difficulty = memory_state(reviews_of(rows), parameters)
        assert card["stability"] == pytest.approx(stability, abs=1e-6, rel=0)
        assert card["difficulty"] == pytest.approx(difficulty, abs=1e-6, rel=0)
    # the reminders look at the user's next due: the earliest of the imported cards
    next_due = firestore_db.collection("users").document(user.uid).get().to_dict()["nextDueAt"]
    assert next_due == min(datetime.fromisoformat(c["due"]) for c in cards if c["state"] != "new")
    review_card = next(c for c in by_note.values() if c["state"] == "review")
    r = client.call(
        "POST", "/review-card", json={"cardId": review_card["id"], "rating": 3, "reviewId": "imported-review-1"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["card"]["stability"] > review_card["stability"]


def test_a_reviewed_deck_exported_as_apkg_comes_back_with_the_same_fsrs_state(
    client_for: Callable[[User], Client], user: User
) -> None:
    """Export as ``.apkg`` a deck whose cards were reviewed here, import the package: each card
    comes back in its state with its stability and difficulty (read from the package's
    ``cards.data``), its reps, and its review logs in the package's revlog."""
    import io
    import sqlite3
    import tempfile
    import zipfile
    from datetime import datetime, timedelta

    from tests.e2e.account.test_export import wait_export

    client = client_for(user)
    deck = client.ok("POST", "/decks", 201, json={"name": "Reviewed"})["id"]
    ids = [
        client.ok("POST", "/cards", 201, json={"deckId": deck, "front": f"Q{n}", "back": f"A{n}"})["cards"][0]["id"]
        for n in range(3)
    ]
    reviews = 0
    for n, ratings in enumerate(([3], [1, 3], [])):  # Q2 stays new
        for k, rating in enumerate(ratings):
            body = {"cardId": ids[n], "rating": rating, "reviewId": f"round-trip-{n}-{k}", "durationMs": 3000}
            assert client.call("POST", "/review-card", json=body).status_code == 200
            reviews += 1
    original = {c["front"]: c for c in client.ok("GET", "/cards", params={"deckId": deck})["cards"]}

    started = client.ok("POST", "/account/exports/deck", 202, json={"deckId": deck, "format": "apkg"})
    made = wait_export(client, started["id"])
    package = requests.get(made["downloadUrl"], timeout=30).content
    with tempfile.NamedTemporaryFile(suffix=".anki2") as f:
        f.write(zipfile.ZipFile(io.BytesIO(package)).read("collection.anki2"))
        f.flush()
        con = sqlite3.connect(f.name)
        assert con.execute("select count() from revlog").fetchone()[0] == reviews
        con.close()

    imp = upload(client, package, "reviewed.apkg", deck="Reviewed again")
    client.ok("POST", f"/account/imports/{imp['id']}/start", 202)
    back = wait_import(client, imp["id"])
    assert (back["status"], back["result"]["reviewsRead"], back["result"]["cardsScheduled"]) == ("succeeded", 3, 2)
    copied = {c["front"]: c for c in client.ok("GET", "/cards", params={"deckId": back["deckId"]})["cards"]}
    assert set(copied) == set(original)
    for front, card in original.items():
        got = copied[front]
        assert (got["state"], got["reps"]) == (card["state"], card["reps"]), front
        if card["state"] == "new":
            assert got.get("stability") is None
            continue
        assert got["stability"] == pytest.approx(card["stability"], abs=1e-6, rel=0)
        assert got["difficulty"] == pytest.approx(card["difficulty"], abs=1e-6, rel=0)
        # Anki keeps a review's time in ms (the revlog id)
        last, was = datetime.fromisoformat(got["lastReview"]), datetime.fromisoformat(card["lastReview"])
        assert timedelta(0) <= was - last < timedelta(milliseconds=1)


def test_import_progress_is_visible_while_it_runs(
    client_for: Callable[[User], Client], user: User, firestore_db: Any
) -> None:
    """Each progress write (the first batch's at once, then at most one a second, and the last)
    is a commit a Firestore listener sees: running → cards done rising → succeeded with all
    done; the API answers the same progress."""
    import itertools
    import queue

    client = client_for(user)
    lines = "".join(f"term {i}\tdefinition {i}\n" for i in range(1_000)).encode()
    imp = upload(client, lines, "many.txt", deck="Many")
    ref = firestore_db.document(f"users/{user.uid}/imports/{imp['id']}")
    seen: queue.Queue[tuple[dict[str, Any], Any]] = queue.Queue()
    watch = ref.on_snapshot(lambda docs, changes, at: [seen.put((d.to_dict() or {}, d.update_time)) for d in docs])
    try:
        assert seen.get(timeout=30)[0]["status"] == "awaiting_upload"
        client.ok("POST", f"/account/imports/{imp['id']}/start", 202)
        states: list[tuple[str, int, int]] = []
        written: list[Any] = []  # commit times of the progress writes before the last
        while not states or states[-1][0] not in ("succeeded", "failed"):
            data, at = seen.get(timeout=120)
            progress = data.get("progress") or {}
            states.append((data["status"], int(progress.get("done", -1)), int(progress.get("total", -1))))
            if data["status"] == "running" and 0 < states[-1][1] < states[-1][2]:
                written.append(at)
    finally:
        watch.unsubscribe()
    assert states[-1] == ("succeeded", 1_000, 1_000), states
    middle = [done for status, done, total in states if status == "running" and 0 < done < total]
    assert middle, states  # at least the first batch's (200 of 1,000), which always comes
    assert middle == sorted(middle), states
    assert all((b - a).total_seconds() >= 1 for a, b in itertools.pairwise(written)), written
    assert {total for _, _, total in states if total >= 0} == {1_000}
    got = client.ok("GET", f"/account/imports/{imp['id']}")
    assert (got["status"], got["progress"]) == ("succeeded", {"done": 1_000, "total": 1_000})
