"""Every screen of the web app against axe-core's WCAG 2.1 A and AA rules (serious and
critical violations: contrast, names of controls, labels, landmarks, ARIA), at desktop and
phone width and in the dark colour scheme, with content in it (and the verify-email banner),
and the study screen used from the keyboard alone."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE, Student, accessibility_problems, sign_in
from tests.conftest import ApiClient, sign_up

SCREENS = ("study", "courses", "documents", "tutor", "quizzes", "stats", "inbox", "plan", "account")


LOOKS = {"desktop": (DESKTOP, "light"), "phone": (PHONE, "light"), "dark": (DESKTOP, "dark")}


@pytest.mark.parametrize("look", LOOKS)
def test_every_screen_passes_axe(browser: Any, web_url: str, auth_emulator: str, gateway_url: str, look: str) -> None:
    viewport, scheme = LOOKS[look]
    # An unverified student: the verify-email banner is on every screen too.
    user = sign_up(auth_emulator)
    api = ApiClient(gateway_url, user, requests.Session())
    deck = api.ok("POST", "/decks", 201, json={"name": "Deck"})
    api.ok("POST", "/cards", 201, json={"deckId": deck["id"], "front": "Q", "back": "A"})
    api.ok("POST", "/courses", 201, json={"name": "Course", "examDate": "2027-06-01"})
    context = browser.new_context(viewport=viewport, color_scheme=scheme)
    try:
        page = context.new_page()
        page.goto(web_url)
        problems = {"sign-in": accessibility_problems(page)}
        sign_in(page, web_url, user.email)
        expect(page.locator("#verify-email")).to_be_visible()
        for screen in SCREENS:
            page.get_by_role("link", name=screen.capitalize()).click()
            expect(page.get_by_role("heading", level=1)).to_be_visible()
            page.wait_for_load_state("networkidle")
            problems[screen] = accessibility_problems(page)
            assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"], screen
    finally:
        context.close()
    assert {k: v for k, v in problems.items() if v} == {}


def test_studying_needs_no_mouse(page: Any, web_url: str, student: Student) -> None:
    deck = student.api.ok("POST", "/decks", 201, json={"name": "Deck"})
    card = student.api.ok("POST", "/cards", 201, json={"deckId": deck["id"], "front": "Q", "back": "A"})["cards"][0]
    sign_in(page, web_url, student.user.email)
    page.locator("#card-front").wait_for()
    # Focus is on "Show answer": Enter shows it, and focus moves to "Good", which Enter grades.
    expect(page.get_by_role("button", name="Show answer")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Good")).to_be_focused()
    with page.expect_response(lambda r: r.url.endswith("/review-card")):
        page.keyboard.press("Enter")
    page.locator("#study-done").wait_for()
    assert student.api.ok("GET", f"/cards/{card['id']}")["reps"] == 1
