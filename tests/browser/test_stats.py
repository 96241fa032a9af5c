"""Stats in the browser: the reviews a student made (through the API) appear in the charts'
tables and summaries; a course with an exam date shows its plan, as the API computes it."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, Student, assert_fits_width, shot


def arrange(student: Student, reviews: list[int]) -> tuple[str, str]:
    """A course with an exam in three weeks, a deck of five cards in it, its first cards reviewed
    with the ``reviews`` ratings."""
    api = student.api
    exam = (date.today() + timedelta(days=21)).isoformat()
    course = api.ok("POST", "/courses", 201, json={"name": "Biology", "examDate": exam})["id"]
    deck = api.ok("POST", "/decks", 201, json={"name": "Cells"})["id"]
    api.ok("PATCH", f"/decks/{deck}", json={"courseId": course})
    cards = [
        api.ok("POST", "/cards", 201, json={"deckId": deck, "front": f"Q{i}", "back": f"A{i}"})["cards"][0]["id"]
        for i in range(5)
    ]
    for card, rating in zip(cards, reviews, strict=False):
        api.ok("POST", "/review-card", json={"cardId": card, "rating": rating, "reviewId": uuid.uuid4().hex})
    return course, exam


def test_reviews_made_today_show_in_the_chart_table_and_the_course_plan_matches_the_api(
    page: Any, signed_in: Student
) -> None:
    course, exam = arrange(signed_in, [3, 3, 1])
    stats = signed_in.api.ok("GET", "/stats", params={"days": 30})
    today = stats["day"]
    assert stats["reviewsPerDay"][-1] == stats["reviewsPerDay"][-1] | {"day": today, "reviews": 3, "newCards": 3}

    page.get_by_role("link", name="Stats").click()
    chart = page.get_by_role("img", name=re.compile("^Reviews per day"))
    expect(chart).to_have_attribute("aria-label", re.compile(r"over the last 30 days: 3 in total, most on .* \(3\)\."))
    row = page.locator(f'table[data-chart="reviews-chart"] tr:has(time[datetime="{today}"])')
    expect(row.locator('td[data-key="newCards"]')).to_have_text("3")
    expect(row.locator('td[data-key="reviewCards"]')).to_have_text("0")
    expect(page.locator('table[data-chart="reviews-chart"] tbody tr')).to_have_count(30)
    expect(page.locator(".tiles").first).to_contain_text("Reviews3in 30 days")
    forecast = page.locator('table[data-chart="forecast-chart"] tbody tr')
    expect(forecast).to_have_count(len(stats["forecast"]))
    expect(forecast.first.locator("td")).to_have_text(str(stats["forecast"][0]["due"]))

    # The course's plan: #/stats?course=<id>, its numbers as the API gives them.
    page.get_by_label("Course").select_option(course)
    expect(page).to_have_url(re.compile(f"#/stats\\?course={course}"))
    plan = signed_in.api.ok("GET", f"/courses/{course}/plan")
    section = page.get_by_role("region", name="Exam plan")
    expect(section.get_by_role("img", name=re.compile("^Exam plan for Biology"))).to_be_visible()
    first = plan["daily"][0]
    plan_row = section.locator(f'table[data-chart="plan-chart"] tr:has(time[datetime="{first["day"]}"])')
    expect(plan_row.locator('td[data-key="newCards"]')).to_have_text(str(first["newCards"]))
    expect(plan_row.locator('td[data-key="reviews"]')).to_have_text(str(first["reviews"]))
    expect(section.locator(".tiles")).to_contain_text(f"{plan['daysLeft']} days left")
    expect(section.locator(".fits")).to_contain_text("fits your limits" if plan["fits"] else "does not fit")
    assert plan["examDate"] == exam
    expect(page.locator(".tiles").first).to_contain_text("Cards in Biology5")
    shot(page, "stats")


@pytest.mark.parametrize("page", [PHONE], indirect=True)
def test_stats_fit_a_phone_and_a_plan_that_does_not_fit_lists_the_suggestions(page: Any, signed_in: Student) -> None:
    course, _ = arrange(signed_in, [])
    signed_in.api.ok("PATCH", "/account/settings", json={"newCardsPerDay": 0})
    plan = signed_in.api.ok("GET", f"/courses/{course}/plan")
    assert not plan["fits"]
    assert plan["suggestions"][0]["kind"] == "higherNewLimit"
    page.goto(page.url.split("#")[0] + f"#/stats?course={course}")
    fits = page.get_by_role("region", name="Exam plan").locator(".fits")
    expect(fits).to_contain_text("does not fit")
    expect(fits.locator("li")).to_have_count(len(plan["suggestions"]))
    expect(fits).to_contain_text("No new card fits before the exam at your daily limit.")
    expect(fits).to_contain_text(f"Allow {plan['suggestions'][0]['newCardsPerDay']} new card")
    shot(page, "stats-phone")
    assert_fits_width(page)
