"""The account screen in the browser: profile and study settings saved (and a bad value refused
with the API's message), "Export my data" through the job to a ZIP that opens, and deleting the
account: the API's confirmation, the job's progress, signed out, and no way back in."""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, Student, assert_fits_width, shot
from tests.e2e.account.conftest import wait_deleted

RECORD_STATUS = """() => {
  window.deletionSeen = [];
  const line = document.querySelector(".deletion-status");
  new MutationObserver(() => window.deletionSeen.push(line.textContent))
    .observe(line, {childList: true, characterData: true, subtree: true});
}"""


def open_account(page: Any) -> None:
    page.get_by_role("link", name="Account").click()
    page.get_by_role("heading", name="Study settings").wait_for()


def test_profile_and_study_settings_are_saved_and_a_bad_value_shows_the_apis_message(
    page: Any, signed_in: Student
) -> None:
    open_account(page)
    expect(page.locator(".email")).to_have_text(signed_in.user.email)
    page.get_by_label("Display name").fill("Ada Student")
    page.get_by_role("button", name="Save name").click()
    profile = page.get_by_role("region", name="Profile")
    expect(profile.get_by_role("status")).to_have_text("Saved.")

    settings = page.get_by_role("region", name="Study settings")
    expect(settings.get_by_label("Review generated cards before saving")).not_to_be_checked()
    settings.get_by_label("Review generated cards before saving").check()
    settings.get_by_label("New cards a day").fill("35")
    settings.get_by_label("Desired retention (0.70–0.97)").fill("0.85")
    settings.get_by_label("Daily reminder").select_option("7")
    settings.get_by_role("button", name="Save settings").click()
    expect(settings.get_by_role("status")).to_have_text("Saved.")
    held = signed_in.api.ok("GET", "/account")
    assert held["displayName"] == "Ada Student"
    keys = ("draftGeneratedCards", "newCardsPerDay", "desiredRetention", "reminderHour")
    assert {k: held["settings"][k] for k in keys} == {
        "draftGeneratedCards": True,
        "newCardsPerDay": 35,
        "desiredRetention": 0.85,
        "reminderHour": 7,
    }

    # A value the API refuses: its own message is shown, nothing changes.
    settings.get_by_label("Desired retention (0.70–0.97)").fill("0.5")
    settings.get_by_label("New cards a day").fill("10")
    with page.expect_response(lambda r: r.url.endswith("/account/settings")) as refused:
        settings.get_by_role("button", name="Save settings").click()
    assert refused.value.status == 400
    error = refused.value.json()["error"]
    assert error["details"][0]["field"] == "desiredRetention"
    shown = f"{error['message']} desiredRetention: {error['details'][0]['message']}"
    expect(settings.get_by_role("alert")).to_contain_text(shown)
    assert signed_in.api.ok("GET", "/account/settings")["newCardsPerDay"] == 35
    shot(page, "account")


def test_export_my_data_reaches_a_download_link_whose_zip_opens(page: Any, signed_in: Student) -> None:
    deck = signed_in.api.ok("POST", "/decks", 201, json={"name": "Exported deck"})["id"]
    signed_in.api.ok("POST", "/cards", 201, json={"deckId": deck, "front": "Export me", "back": "please"})
    open_account(page)
    section = page.get_by_role("region", name="Export my data")
    with page.expect_response(lambda r: r.url.endswith("/account/exports") and r.request.method == "POST") as made:
        section.get_by_role("button", name="Export my data").click()
    assert made.value.status == 202
    export_id = made.value.json()["id"]
    link = section.get_by_role("link", name="Download the ZIP")
    expect(link).to_be_visible(timeout=60_000)
    expect(section.get_by_role("status")).to_have_text(re.compile(r"^Ready \(\d+(\.\d)? (B|kB|MB)\)\.$"))
    shot(page, "account-export")
    url = link.get_attribute("href")
    response = requests.get(url, timeout=30)
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert archive.testzip() is None
        text = "\n".join(
            archive.read(name).decode("utf-8", "replace") for name in archive.namelist() if name.endswith(".json")
        )
    assert "Export me" in text
    assert "Exported deck" in text
    held = signed_in.api.ok("GET", f"/account/exports/{export_id}")
    assert held["status"] == "succeeded"
    assert held["sizeBytes"] == len(response.content)


@pytest.mark.parametrize("page", [PHONE], indirect=True)
def test_deleting_the_account_signs_out_and_the_account_is_gone(
    page: Any, web_url: str, signed_in: Student, firestore_db: Any
) -> None:
    open_account(page)
    assert_fits_width(page)
    shot(page, "account-phone")
    zone = page.get_by_role("region", name="Danger zone")
    # The wrong confirmation: the API's message, nothing deleted.
    zone.get_by_label("Type DELETE to confirm").fill("delete")
    with page.expect_response(lambda r: r.url.endswith("/account") and r.request.method == "DELETE") as refused:
        zone.get_by_role("button", name="Delete my account").click()
    assert refused.value.status == 400
    error = refused.value.json()["error"]
    expect(zone.get_by_role("alert")).to_contain_text(f"{error['message']} confirm: {error['details'][0]['message']}")
    assert signed_in.api.ok("GET", "/account")["email"] == signed_in.user.email

    zone.get_by_label("Type DELETE to confirm").fill("DELETE")
    zone.get_by_label("Your password").fill(signed_in.password)
    page.evaluate(RECORD_STATUS)  # every text the deletion's status line shows, kept past the sign-out
    with page.expect_response(lambda r: r.url.endswith("/account") and r.request.method == "DELETE") as started:
        zone.get_by_role("button", name="Delete my account").click()
    assert started.value.status == 202
    assert started.value.json() | {"requestedAt": None} == {
        "status": "running",
        "step": "stripe",
        "stepsDone": 0,
        "stepsTotal": 5,
        "requestedAt": None,
    }
    page.get_by_role("heading", name="Sign in to Aksio").wait_for(timeout=60_000)
    seen = page.evaluate("window.deletionSeen")
    assert seen[0] == "Deleting… 0/5 (stripe)"
    assert seen[-1] == "Your account is disabled and being erased. Signing you out…"

    wait_deleted(firestore_db, signed_in.user.uid)
    page.get_by_label("Email").fill(signed_in.user.email)
    page.get_by_label("Password").fill(signed_in.password)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_have_text("No account has this email.")
    assert signed_in.api.call("GET", "/account").status_code == 401
