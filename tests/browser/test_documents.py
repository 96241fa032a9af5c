"""A course, its document and its cards, made in the browser: a course with an exam date and
sections; a PDF uploaded straight to storage through the signed URL (a cross-origin PUT the
bucket's CORS rule must allow), its processing followed to ready; cards generated from it and
reviewed as drafts before they are saved (the account's setting)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import Student, shot, sign_in
from tests.browser.pdfs import large, reader

MB = 1024 * 1024


def test_course_upload_generate_and_review_drafts(page: Any, web_url: str, student: Student, tmp_path: Path) -> None:
    student.api.ok("PATCH", "/account/settings", json={"draftGeneratedCards": True})
    sign_in(page, web_url, student.user.email)
    page.get_by_role("link", name="Courses").click()
    new = page.get_by_role("form", name="New course")
    new.get_by_label("Course name").fill("Biology 101")
    new.get_by_label("Exam date (optional)").fill("2027-06-15")
    new.get_by_label("Sections, comma-separated (optional)").fill("Cells, Genetics")
    new.get_by_role("button", name="Create course").click()
    detail = page.locator("#course-detail")
    expect(detail.get_by_role("heading", name="Biology 101")).to_be_visible()
    expect(detail).to_contain_text("Exam on 2027-06-15")
    expect(detail).to_contain_text("Sections: Cells · Genetics")
    [course] = student.api.ok("GET", "/courses")["courses"]
    assert (course["examDate"], [s["name"] for s in course["sections"]]) == ("2027-06-15", ["Cells", "Genetics"])
    shot(page, "courses")

    pdf = tmp_path / "reader.pdf"
    pdf.write_bytes(reader(6))
    page.get_by_role("link", name="Documents").click()
    upload = page.get_by_role("form", name="Upload a document")
    upload.get_by_label("File (PDF, Word, PowerPoint, Markdown or text)").set_input_files(str(pdf))
    upload.get_by_label("Course").select_option(label="Biology 101")
    upload.get_by_role("button", name="Upload").click()
    expect(page.locator("#upload-state")).to_have_text("reader.pdf is ready: 6 pages.", timeout=90_000)
    [doc] = student.api.ok("GET", "/documents")["documents"]
    assert (doc["status"], doc["courseId"], doc["sizeBytes"]) == ("ready", course["id"], pdf.stat().st_size)

    generate = page.get_by_role("form", name="Generate flashcards")
    generate.get_by_label("Deck name").fill("Biology cards")
    generate.get_by_label("How many cards").fill("5")
    generate.get_by_role("button", name="Generate cards").click()
    drafts = page.locator("#drafts > li")
    expect(drafts).to_have_count(5, timeout=90_000)
    shot(page, "documents")
    dropped = drafts.nth(0).locator("input[type=checkbox]")
    dropped.uncheck()
    page.get_by_role("button", name="Save the checked cards").click()
    expect(page.locator("#generate")).to_contain_text("4 cards saved, 1 discarded.")
    [listed] = student.api.ok("GET", "/decks")["decks"]
    deck = student.api.ok("GET", f"/decks/{listed['id']}")
    assert (deck["name"], deck["cardCount"], deck["courseId"]) == ("Biology cards", 4, course["id"])
    assert page.watch.failed == []


def test_a_20_mb_pdf_goes_up_through_the_signed_url_with_progress(
    page: Any, web_url: str, student: Student, tmp_path: Path
) -> None:
    pdf = tmp_path / "big.pdf"
    pdf.write_bytes(large(20 * MB))
    size = pdf.stat().st_size
    assert abs(size - 20 * MB) < 0.01 * 20 * MB
    sign_in(page, web_url, student.user.email)
    page.get_by_role("link", name="Documents").click()
    page.get_by_label("File (PDF, Word, PowerPoint, Markdown or text)").set_input_files(str(pdf))
    started = time.monotonic()
    with page.expect_response(lambda r: r.request.method == "PUT" and "X-Goog-Signature" in r.url) as put:
        page.get_by_role("button", name="Upload").click()
    uploaded = time.monotonic() - started
    assert put.value.status == 200
    assert put.value.request.headers["x-goog-content-length-range"] == f"{size},{size}"
    state = page.locator("#upload-state")
    expect(state).to_have_text("big.pdf is ready: 7 pages.", timeout=120_000)
    # The page followed the PUT's progress events up to the last byte.
    assert int(state.get_attribute("data-progress-events")) >= 1
    assert int(state.get_attribute("data-sent-bytes")) == size
    ready = time.monotonic() - started
    [doc] = student.api.ok("GET", "/documents")["documents"]
    assert (doc["status"], doc["sizeBytes"], doc["pageCount"]) == ("ready", size, 7)
    print(f"\n20 MB PDF ({size / MB:.2f} MiB): PUT done in {uploaded:.2f} s, ready in {ready:.2f} s")
