"""Studying in the browser, keyboard first: the queue one card at a time, Space shows the
answer, 1-4 grade, u undoes; the day's progress line follows; the API holds what was done."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import PHONE, Student, shot, sign_in


def deck_with_cards(student: Student, n: int) -> tuple[str, list[dict[str, Any]]]:
    deck = student.api.ok("POST", "/decks", 201, json={"name": "Biology"})
    cards = []
    for i in range(n):
        front = f"Question {i + 1}: what is organelle {i + 1}?"
        body = {"deckId": deck["id"], "front": front, "back": f"Answer {i + 1}"}
        cards += student.api.ok("POST", "/cards", 201, json=body)["cards"]
    return deck["id"], cards


def test_study_with_the_keyboard_grade_undo_and_finish(page: Any, web_url: str, student: Student) -> None:
    _, cards = deck_with_cards(student, 3)
    sign_in(page, web_url, student.user.email)  # the app opens on Study
    front = page.locator("#card-front")
    front.wait_for()
    progress = page.locator("#study-progress")
    assert front.inner_text() == cards[0]["front"]
    assert progress.inner_text() == "Today: 0 reviewed · left: 3 new · 0 learning · 0 to review"
    assert page.locator("#card-back").count() == 0

    page.keyboard.press("Space")
    assert page.locator("#card-back").inner_text() == "Answer 1"
    shot(page, "study")
    with page.expect_response(lambda r: r.url.endswith("/review-card") and r.request.method == "POST") as graded:
        page.keyboard.press("3")
    assert graded.value.status == 200
    expect(front).to_have_text(cards[1]["front"])
    expect(progress).to_have_text("Today: 1 reviewed · left: 2 new · 0 learning · 0 to review")

    # u takes the last grade back: card 1 is shown again, and the API has forgotten the review.
    with page.expect_response(lambda r: r.url.endswith("/review-card/undo")) as undone:
        page.keyboard.press("u")
    assert undone.value.status == 200
    expect(front).to_have_text(cards[0]["front"])
    expect(progress).to_have_text("Today: 0 reviewed · left: 3 new · 0 learning · 0 to review")
    assert student.api.ok("GET", f"/cards/{cards[0]['id']}")["reps"] == 0

    for card in cards:  # Easy on all three: nothing is due today any more
        expect(front).to_have_text(card["front"])
        page.keyboard.press("Space")
        expect(page.locator("#card-back")).to_have_text(card["back"])
        with page.expect_response(lambda r: r.url.endswith("/review-card") and r.request.method == "POST"):
            page.keyboard.press("4")
    page.locator("#study-done").wait_for()
    expect(progress).to_have_text("Today: 3 reviewed · left: 0 new · 0 learning · 0 to review")
    stored = [student.api.ok("GET", f"/cards/{c['id']}") for c in cards]
    assert [(c["reps"], c["state"]) for c in stored] == [(1, "review")] * 3
    assert student.api.ok("GET", "/stats", params={"days": 1})["totalReviews"] == 3
    assert page.watch.failed == []


def test_grading_buttons_work_by_touch_on_a_phone(browser: Any, web_url: str, student: Student) -> None:
    context = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    try:
        page = context.new_page()
        _, cards = deck_with_cards(student, 1)
        sign_in(page, web_url, student.user.email)
        page.get_by_role("button", name="Show answer").tap()
        page.get_by_role("button", name="Good").tap()
        page.locator("#study-done").wait_for()
        assert student.api.ok("GET", f"/cards/{cards[0]['id']}")["reps"] == 1
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    finally:
        context.close()


def test_an_api_error_is_shown_with_the_apis_message(page: Any, web_url: str, student: Student) -> None:
    _, cards = deck_with_cards(student, 1)
    sign_in(page, web_url, student.user.email)
    page.locator("#card-front").wait_for()
    page.keyboard.press("Space")
    page.locator("#card-back").wait_for()
    # The card is deleted elsewhere (another device) before it is graded here.
    student.api.ok("DELETE", f"/cards/{cards[0]['id']}")
    with page.expect_response(lambda r: r.url.endswith("/review-card")) as graded:
        page.keyboard.press("3")
    message = graded.value.json()["error"]["message"]
    assert graded.value.status == 404
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text(message)
    expect(alert).to_contain_text(graded.value.json()["error"]["requestId"])
