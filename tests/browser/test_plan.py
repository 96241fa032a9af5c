"""Plan and usage in the browser, and the upgrade round trip: the app sends the student to
(the local) Stripe Checkout, they pay there, Stripe calls the webhook and sends them back, and
the app shows the new plan once the webhook has set it."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import expect

from tests.browser.conftest import Student, shot, sign_in


def test_upgrade_through_checkout_and_back(page: Any, web_url: str, student: Student) -> None:
    sign_in(page, web_url, student.user.email)
    page.get_by_role("link", name="Plan").click()
    expect(page.locator("#plan-name")).to_have_text("Free")
    usage = student.api.ok("GET", "/account/usage")
    rows = page.locator("#quotas tbody tr")
    expect(rows).to_have_count(len(usage["quotas"]))
    for quota in usage["quotas"]:
        row = page.locator(f'#quotas tr[data-quota="{quota["quota"]}"]')
        expect(row.locator("td").nth(0)).to_have_text(quota["what"])
        expect(row.locator("td").nth(2)).to_have_text(f"{quota['limit']:,}")
    shot(page, "plan")

    page.get_by_role("button", name="Upgrade to Pro").click()
    page.wait_for_url("**/c/pay/**")
    stripe = urlsplit(page.url).netloc
    assert stripe != urlsplit(web_url).netloc
    shot(page, "checkout")
    page.get_by_role("button", name="Pay").click()

    # Back in the app, on the plan screen, which waits for the webhook's plan.
    expect(page.locator("#checkout-notice")).to_have_text("Welcome to Pro!", timeout=30_000)
    assert page.url.startswith(web_url)
    expect(page.locator("#plan-name")).to_have_text("Pro")
    assert "checkout=" not in page.url  # the return parameters are tidied away
    assert student.api.ok("GET", "/account/usage")["plan"] == "pro"
    expect(page.get_by_role("button", name="Manage billing")).to_be_visible()
    expect(page.get_by_role("button", name="Upgrade to Pro")).to_have_count(0)


def test_a_canceled_checkout_changes_nothing(page: Any, web_url: str, student: Student) -> None:
    sign_in(page, web_url, student.user.email)
    page.get_by_role("link", name="Plan").click()
    page.get_by_role("button", name="Upgrade to Pro").click()
    page.wait_for_url("**/c/pay/**")
    page.get_by_role("link", name="Back").click()
    expect(page.locator("#checkout-notice")).to_have_text("Checkout was canceled: nothing was charged.")
    expect(page.locator("#plan-name")).to_have_text("Free")
    assert student.api.ok("GET", "/account/usage")["plan"] == "free"
