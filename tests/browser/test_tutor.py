"""The tutor in the browser: the answer streams in over fetch (server-sent events), the time to
its first token is shown, and each [n] links to a citation quoting the document with its page."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import Student, shot, sign_in
from tests.browser.pdfs import reader
from tests.unit.quizzes import corpus

PAGES = 6


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def test_a_streamed_answer_with_citations_that_quote_the_page(page: Any, web_url: str, student: Student) -> None:
    doc = student.api.wait(student.api.upload("reader.pdf", "application/pdf", reader(PAGES)))
    assert doc["status"] == "ready"
    sign_in(page, web_url, student.user.email)
    page.get_by_role("link", name="Tutor").click()
    page.get_by_label("Your question").fill("What is osmosis?")
    with page.expect_response(lambda r: r.url.endswith("/chat-reply")) as reply:
        page.get_by_role("button", name="Ask").click()
    assert reply.value.headers["content-type"].startswith("text/event-stream")
    timing = page.locator(".message.assistant .timing")
    expect(timing).to_contain_text("complete after")
    ttft = int(timing.get_attribute("data-ttft-ms"))
    total = int(re.search(r"complete after (\d+) ms", timing.inner_text()).group(1))
    assert 0 <= ttft <= total
    assert timing.inner_text().startswith(f"First token after {ttft} ms")
    answer = page.locator(".message.assistant .answer-text")
    assert int(answer.get_attribute("data-deltas")) > 1  # it arrived in pieces, not at once
    assert "osmosis" in answer.inner_text().lower()

    # Each citation quotes its page of the PDF, and its marker in the answer leads to it.
    pages = [squash(" ".join(lines)) for lines in corpus.lines(PAGES)]
    citations = page.locator(".citations > li")
    assert citations.count() >= 1
    for i in range(citations.count()):
        item = citations.nth(i)
        number = int(re.search(r"page (\d+)", item.inner_text()).group(1))
        quote = squash(item.locator("blockquote").inner_text())
        assert quote
        assert quote in pages[number - 1], (number, quote)
    first = page.locator(".message.assistant a.marker").first
    marker = first.get_attribute("data-marker")
    first.click()
    expect(page.locator(f'[data-citation="{marker}"]')).to_be_focused()
    shot(page, "tutor")

    # The conversation is stored: the reply's citations are the ones shown.
    chat = student.api.ok("GET", "/chat-reply")["chats"][0]
    messages = student.api.ok("GET", f"/chat-reply/{chat['id']}/messages")["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert len(messages[1]["citations"]) == citations.count()
