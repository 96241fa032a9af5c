"""The inbox in the browser: a reminder made by the send-reminders job (fired through the
stack's scheduler, as tests/e2e/reminders does) shows unread with the nav badge; marking it
read clears the badge and the API holds it read. Older entries come with "Load more"."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, Student, assert_fits_width, shot, sign_in
from tests.conftest import need_env

# A day before the stack's real clock: every other user's reminder instant is after the real
# now, so the run at this instant sees this student only (see tests/e2e/reminders).
SLOT = datetime(2026, 1, 2, 12, tzinfo=UTC)


@pytest.fixture
def reminder(student: Student, firestore_db: Any) -> Iterator[dict[str, Any]]:
    """One card due in "Cell biology", the reminder at 12:00 UTC, and send-reminders run then;
    afterwards the student's next reminder is moved past every simulated run of the suite."""
    yield arrange_reminder(student, firestore_db)
    user = firestore_db.collection("users").document(student.user.uid)
    user.update({"nextReminderAt": datetime(2100, 1, 1, tzinfo=UTC)})


def arrange_reminder(student: Student, db: Any) -> dict[str, Any]:
    api = student.api
    deck = api.ok("POST", "/decks", 201, json={"name": "Cell biology"})["id"]
    card = api.ok("POST", "/cards", 201, json={"deckId": deck, "front": "ATP?", "back": "energy"})["cards"][0]["id"]
    api.ok("POST", "/review-card", json={"cardId": card, "rating": 3, "reviewId": uuid.uuid4().hex})
    api.ok("PATCH", "/account/settings", json={"timezone": "UTC", "reminderHour": 12})
    user = db.collection("users").document(student.user.uid)
    user.collection("cards").document(card).update({"due": SLOT - timedelta(days=1)})
    user.update({"nextReminderAt": SLOT})
    scheduler = need_env("SCHEDULER_URL")["SCHEDULER_URL"]
    at = (SLOT + timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    r = requests.post(f"{scheduler}/_test/run", json={"job": "send-reminders", "at": at, "retries": 0}, timeout=120)
    r.raise_for_status()
    assert r.json()["status"] == 200, r.json()
    notes: list[dict[str, Any]] = api.ok("GET", "/notifications")["notifications"]
    assert [(n["title"], n["read"]) for n in notes] == [("1 card due in Cell biology", False)]
    return notes[0]


def test_a_reminder_shows_unread_with_the_badge_and_marking_it_read_clears_both(
    page: Any, web_url: str, student: Student, reminder: dict[str, Any]
) -> None:
    note = reminder
    sign_in(page, web_url, student.user.email)
    badge = page.locator("#unread")
    expect(badge).to_have_text("1")
    page.get_by_role("link", name="Inbox").click()
    entry = page.locator(f'li[data-notification="{note["id"]}"]')
    expect(entry).to_have_class("note unread")
    expect(entry.get_by_role("heading")).to_have_text("Unread: 1 card due in Cell biology")
    expect(entry).to_contain_text("A few minutes now keeps them fresh.")
    assert entry.get_by_role("heading").evaluate("e => getComputedStyle(e).fontWeight") == "700"
    expect(page.locator("#view").get_by_role("status")).to_have_text("1 unread")
    shot(page, "inbox")

    with page.expect_response(lambda r: r.url.endswith(f"/notifications/{note['id']}/read")) as read:
        entry.get_by_role("button", name="Mark read: 1 card due in Cell biology").click()
    assert read.value.status == 200
    expect(entry).to_have_class("note read")
    expect(badge).to_be_hidden()
    expect(page.locator("#view").get_by_role("status")).to_have_text("All read")
    assert entry.get_by_role("heading").evaluate("e => getComputedStyle(e).fontWeight") == "400"
    assert student.api.ok("GET", "/notifications/unread") == {"unread": 0}
    assert_fits_width(page)
    held = student.api.ok("GET", "/notifications")["notifications"][0]
    assert held["read"] is True
    assert held["readAt"]


@pytest.fixture
def many_notes(student: Student, firestore_db: Any) -> list[str]:
    """25 older notifications, oldest first (the inbox's own paging is tested in tests/e2e)."""
    col = firestore_db.collection("users").document(student.user.uid).collection("notifications")
    start = datetime.now(UTC) - timedelta(days=2)
    ids = []
    for i in range(25):
        col.document(f"n{i:03d}").set(
            {
                "kind": "news",
                "title": f"Note {i + 1}",
                "body": "b",
                "read": i < 20,
                "createdAt": start + timedelta(hours=i),
                "expireAt": start + timedelta(days=30),
            }
        )
        ids.append(f"n{i:03d}")
    return ids


@pytest.mark.parametrize("page", [PHONE], indirect=True)
def test_load_more_pages_on_to_the_oldest_and_mark_all_read(
    page: Any, web_url: str, student: Student, many_notes: list[str]
) -> None:
    sign_in(page, web_url, student.user.email)
    page.get_by_role("link", name="Inbox").click()
    items = page.locator("ul.inbox > li")
    expect(items).to_have_count(20)
    expect(items.first).to_have_attribute("data-notification", many_notes[-1])
    expect(page.locator("#view").get_by_role("status")).to_have_text("5 unread")
    with page.expect_response(lambda r: "cursor=" in r.url):
        page.get_by_role("button", name="Load more").click()
    expect(items).to_have_count(25)
    expect(items.last).to_have_attribute("data-notification", many_notes[0])
    expect(page.get_by_role("button", name="Load more")).to_be_hidden()
    page.get_by_role("button", name="Mark all read").click()
    expect(page.locator("#view").get_by_role("status")).to_have_text("All read")
    expect(page.locator("#unread")).to_be_hidden()
    assert student.api.ok("GET", "/notifications/unread") == {"unread": 0}
    assert_fits_width(page)
