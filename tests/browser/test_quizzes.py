"""Quizzes in the browser: a student makes a quiz from a deck, takes it with one wrong answer,
reads the result (score, right answers, explanations) and keeps the miss as a card; an API
refusal (a deck without cards) is shown as the API's message."""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, Student, assert_fits_width, shot
from tests.e2e.quizzes.conftest import Client
from tests.unit.quizzes.corpus import make_pdf

FACTS = {
    "Capital of Norway?": "Oslo",
    "Largest planet?": "Jupiter",
    "Chemical symbol of gold?": "Au",
    "Author of Hamlet?": "Shakespeare",
}


def deck_with_cards(student: Student, name: str, facts: dict[str, str]) -> str:
    deck: str = student.api.ok("POST", "/decks", 201, json={"name": name})["id"]
    for front, back in facts.items():
        student.api.ok("POST", "/cards", 201, json={"deckId": deck, "front": front, "back": back})
    return deck


def test_a_deck_quiz_taken_with_one_miss_shows_the_score_explanations_and_the_miss_becomes_a_card(
    page: Any, signed_in: Student
) -> None:
    deck = deck_with_cards(signed_in, "Trivia", FACTS)
    misses = deck_with_cards(signed_in, "Misses", {})
    page.get_by_role("link", name="Quizzes").click()
    form = page.get_by_role("form", name="New quiz")
    form.get_by_label("Deck", exact=True).select_option(deck)
    form.get_by_label("Questions", exact=True).fill("4")
    form.get_by_label("True or false").uncheck()
    form.get_by_label("Time limit (minutes)").fill("10")
    with page.expect_response(lambda r: r.url.endswith("/quizzes") and r.request.method == "POST") as made:
        form.get_by_role("button", name="Make the quiz").click()
    assert made.value.status == 201
    quiz = made.value.json()
    item = page.locator(f'li[data-quiz="{quiz["id"]}"]')
    expect(item).to_contain_text("Ready")
    expect(item).to_contain_text("4 questions")
    shot(page, "quizzes")

    item.get_by_role("button", name="Start").click()
    expect(page.get_by_role("timer")).to_contain_text(re.compile(r"Time left (10:00|9:5\d)"))
    questions = page.locator("fieldset.question")
    expect(questions).to_have_count(4)
    wrong = None
    for i in range(4):
        question = questions.nth(i)
        prompt = question.locator("legend").inner_text().split(" ", 1)[1]
        answer = FACTS[prompt]
        if wrong is None:  # the first question gets a wrong answer
            wrong = prompt
            choice = question.locator("label.option").filter(has_not_text=answer).first.get_by_role("radio")
        else:
            choice = question.get_by_role("radio", name=answer, exact=True)
        with page.expect_response(lambda r: "/answers/" in r.url and r.request.method == "PUT") as put:
            choice.check()
        assert put.value.status == 200
        expect(question.locator(".saved")).to_have_text("Saved")
        expect(page.locator(".tally")).to_have_text(f"{i + 1} of 4 answered")
    with page.expect_response(lambda r: r.url.endswith("/submit")) as submitted:
        page.get_by_role("button", name="Submit").click()
    attempt = submitted.value.json()

    expect(page.locator(".score")).to_contain_text("3/4")
    missed = page.locator("li.result.wrong")
    expect(missed).to_have_count(1)
    expect(missed).to_contain_text("✗ Incorrect")
    expect(missed).to_contain_text(wrong)
    expect(missed.locator(".right-answer")).to_have_text(FACTS[wrong])
    expect(missed.locator(".explanation")).to_have_text(f"{wrong} — {FACTS[wrong]}")
    expect(page.locator("li.result.right")).to_have_count(3)
    shot(page, "quiz-result")

    page.get_by_label(re.compile("Deck for the 1 missed question")).select_option(misses)
    page.get_by_role("button", name="Add my misses as cards").click()
    expect(page.locator("form.misses").get_by_role("status")).to_have_text("Added 1 card to Misses.")

    # What the API now holds: the attempt graded 3/4, the quiz's best score, the miss as a card.
    held = signed_in.api.ok("GET", f"/quizzes/{quiz['id']}/attempts/{attempt['id']}")
    assert (held["status"], held["result"]["score"], held["result"]["total"]) == ("submitted", 3, 4)
    assert signed_in.api.ok("GET", f"/quizzes/{quiz['id']}")["stats"]["bestPercent"] == 75.0
    cards = signed_in.api.ok("GET", "/cards", params={"deckId": misses})["cards"]
    assert [(c["front"], c["back"]) for c in cards] == [(wrong, FACTS[wrong])]
    assert [r for r in page.watch.responses if r[2] >= 400] == []


@pytest.mark.parametrize("page", [PHONE], indirect=True)
def test_a_quiz_from_an_empty_deck_shows_the_apis_message(page: Any, signed_in: Student) -> None:
    deck_with_cards(signed_in, "Empty", {})
    page.get_by_role("link", name="Quizzes").click()
    form = page.get_by_role("form", name="New quiz")
    form.get_by_role("button", name="Make the quiz").click()
    expect(form.get_by_role("alert")).to_contain_text("This deck has no cards to make questions from.")
    assert signed_in.api.ok("GET", "/quizzes")["quizzes"] == []
    assert_fits_width(page)


def test_a_quiz_from_a_document_shows_the_jobs_end_and_cites_pages_in_the_result(
    page: Any, signed_in: Student, gateway_url: str, offline_gateway: None
) -> None:
    client = Client(gateway_url, signed_in.user, requests.Session())
    doc = client.upload("reader.pdf", "application/pdf", make_pdf(4))
    assert client.wait_document(doc)["status"] == "ready"
    page.get_by_role("link", name="Quizzes").click()
    form = page.get_by_role("form", name="New quiz")
    form.get_by_label("Documents").check()
    form.get_by_label("reader.pdf").check()
    form.get_by_label("Questions", exact=True).fill("3")
    with page.expect_response(lambda r: r.url.endswith("/quizzes") and r.request.method == "POST") as made:
        form.get_by_role("button", name="Make the quiz").click()
    assert made.value.status == 202
    quiz = made.value.json()
    assert quiz["status"] == "generating"
    item = page.locator(f'li[data-quiz="{quiz["id"]}"]')
    expect(item).to_have_attribute("data-status", "ready", timeout=60_000)
    expect(item).to_contain_text("3 questions · from documents")
    assert page.watch.api_calls("GET", f"/quizzes/{quiz['id']}$")  # the page followed the job

    item.get_by_role("button", name="Start").click()
    expect(page.locator("fieldset.question")).to_have_count(3)
    with page.expect_response(lambda r: r.url.endswith("/submit")) as submitted:
        page.get_by_role("button", name="Submit").click()
    result = submitted.value.json()["result"]
    expect(page.locator(".score")).to_contain_text("0/3")
    rows = page.locator("li.result")
    expect(rows).to_have_count(3)
    for i, row in enumerate(result["questions"]):
        cited = row["citation"]
        shown = rows.nth(i).locator("figure.citation")
        expect(shown.locator("blockquote")).to_have_text(cited["quote"])
        last = cited.get("lastPage") or cited["page"]
        pages = f"page {cited['page']}" if last == cited["page"] else f"pages {cited['page']}–{last}"
        expect(shown.locator("figcaption")).to_have_text(f"reader.pdf, {pages}")
    shot(page, "quiz-result-documents")

    # No deck yet: the misses go to a new one.
    expect(page.get_by_label("Deck for the 3 missed questions")).to_have_value(":new")
    page.get_by_role("button", name="Add my misses as cards").click()
    expect(page.locator("form.misses").get_by_role("status")).to_have_text("Added 3 cards to reader.pdf · misses.")
    decks = signed_in.api.ok("GET", "/decks")["decks"]
    assert [d["name"] for d in decks] == ["reader.pdf · misses"]
    cards = signed_in.api.ok("GET", "/cards", params={"deckId": decks[0]["id"]})["cards"]
    assert len(cards) == 3


def test_short_answers_typed_on_a_phone_are_graded(page: Any, signed_in: Student) -> None:
    page.set_viewport_size(PHONE)
    deck = deck_with_cards(signed_in, "Trivia", FACTS)
    quiz = signed_in.api.ok("POST", "/quizzes", 201, json={"deckId": deck, "count": 3, "kinds": ["short_answer"]})
    page.get_by_role("link", name="Quizzes").click()
    page.locator(f'li[data-quiz="{quiz["id"]}"]').get_by_role("button", name="Start").click()
    questions = page.locator("fieldset.question")
    expect(questions).to_have_count(3)
    typed = {}
    for i in range(3):
        question = questions.nth(i)
        prompt = question.locator("legend").inner_text().split(" ", 1)[1]
        typed[prompt] = "no idea" if i == 2 else FACTS[prompt].lower()
        question.get_by_label("Your answer").fill(typed[prompt])
    shot(page, "quiz-take-phone")
    assert_fits_width(page)
    with page.expect_response(lambda r: r.url.endswith("/submit")) as submitted:
        page.get_by_role("button", name="Submit").click()
    assert submitted.value.status == 200
    expect(page.locator(".score")).to_contain_text("2/3")
    wrong = page.locator("li.result.wrong")
    expect(wrong.locator(".given")).to_have_text("no idea")
    held = submitted.value.json()["result"]["questions"]
    assert {r["prompt"]: r["given"]["text"] for r in held} == typed
    assert_fits_width(page)


def test_when_the_time_limit_ends_the_quiz_is_submitted_with_the_answers_given(page: Any, signed_in: Student) -> None:
    deck = deck_with_cards(signed_in, "Trivia", FACTS)
    body = {"deckId": deck, "count": 2, "kinds": ["multiple_choice"], "timeLimitSeconds": 4}
    quiz = signed_in.api.ok("POST", "/quizzes", 201, json=body)
    page.get_by_role("link", name="Quizzes").click()
    page.locator(f'li[data-quiz="{quiz["id"]}"]').get_by_role("button", name="Start").click()
    expect(page.get_by_role("timer")).to_have_text(re.compile(r"^Time left 0:0[0-4]$"))
    first = page.locator("fieldset.question").first
    prompt = first.locator("legend").inner_text().split(" ", 1)[1]
    with page.expect_response(lambda r: "/answers/" in r.url) as put:
        first.get_by_role("radio", name=FACTS[prompt], exact=True).check()
    assert put.value.status == 200
    # Nobody presses Submit: the countdown does, and the result page follows.
    expect(page.locator(".score")).to_contain_text("1/2", timeout=15_000)
    attempts = signed_in.api.ok("GET", f"/quizzes/{quiz['id']}/attempts")["attempts"]
    assert [(a["status"], a["score"], a["total"]) for a in attempts] == [("submitted", 1, 2)]

    # Deleting it from the list takes a second click.
    page.get_by_role("link", name="All quizzes").click()
    delete = page.get_by_role("button", name="Delete Trivia")
    delete.click()
    expect(delete).to_have_text("Sure? Delete")
    assert signed_in.api.call("GET", f"/quizzes/{quiz['id']}").status_code == 200
    with page.expect_response(lambda r: r.request.method == "DELETE") as deleted:
        delete.click()
    assert deleted.value.status == 200
    expect(page.get_by_text("No quiz yet: make one below.")).to_be_visible()
    assert signed_in.api.call("GET", f"/quizzes/{quiz['id']}").status_code == 404
