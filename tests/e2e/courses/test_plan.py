"""The exam plan through the gateway: new cards a day to see every card a margin before the
exam, the daily forecast, the predicted retention, whether it fits the user's limits (and what
would), and the course's study queue using the plan's allowance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.e2e.courses.conftest import CourseClient
from tests.e2e.courses.test_progress import bulk_cards

pytestmark = pytest.mark.stack


def test_exam_plan_and_the_course_queue(client: CourseClient, firestore_db: Any) -> None:
    today = datetime.now(UTC).date()
    client.ok("PATCH", "/account", json={"settings": {"timezone": "UTC", "dayStartsAtHour": 0}})
    exam = (today + timedelta(days=30)).isoformat()
    course = client.course("Pharmacology", examDate=exam)
    deck = client.deck("Drugs")
    client.ok("PATCH", f"/decks/{deck}", json={"courseId": course["id"]})
    bulk_cards(firestore_db, client.user.uid, deck, 600)

    plan = client.ok("GET", f"/courses/{course['id']}/plan")
    assert (plan["examDate"], plan["daysLeft"], plan["marginDays"]) == (exam, 30, 6)
    assert (plan["newCards"], plan["seenCards"], plan["newCardsPerDay"]) == (600, 0, 25)
    assert len(plan["daily"]) == 30
    assert sum(d["newCards"] for d in plan["daily"]) == 600
    assert all(d["newCards"] == 0 for d in plan["daily"][-6:])
    assert 0.8 < plan["predictedRetention"] < 1.0
    # the default limit is 20 new cards a day: it does not fit, and says what would
    assert plan["fits"] is False
    kinds = {s["kind"]: s for s in plan["suggestions"]}
    assert kinds["higherNewLimit"]["newCardsPerDay"] == 25
    assert kinds["fewerCards"]["cards"] == 20 * 24
    later = datetime.fromisoformat(kinds["laterExam"]["examDate"]).date()
    assert (later - today).days - 7 >= 30  # 30 days of 20 cards, then the margin

    # the course's queue takes the plan's allowance; the deck alone, the user's limit
    in_course = client.ok("GET", "/study-queue", params={"courseId": course["id"], "limit": 100})
    assert (in_course["limits"]["newRemaining"], in_course["counts"]["new"]) == (25, 25)
    alone = client.ok("GET", "/study-queue", params={"deckId": deck, "limit": 100})
    assert alone["limits"]["newRemaining"] == 20

    client.ok("PATCH", "/account", json={"settings": {"newCardsPerDay": 30}})
    fits = client.ok("GET", f"/courses/{course['id']}/plan")
    assert (fits["fits"], fits["suggestions"]) == (True, [])

    no_exam = client.course("No exam")
    response = client.call("GET", f"/courses/{no_exam['id']}/plan")
    assert (response.status_code, response.json()["error"]["code"]) == (409, "no_exam_date")
