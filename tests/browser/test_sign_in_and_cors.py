"""Signing up and in with Firebase Auth's web SDK (against the Auth emulator), and CORS as a
browser enforces it: the app's cross-origin API calls pass; a page on an origin the API does
not allow cannot read any answer."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, Student, shot, sign_in
from tests.conftest import PASSWORD, need_env


def project() -> str:
    return need_env("GOOGLE_CLOUD_PROJECT")["GOOGLE_CLOUD_PROJECT"]


def verification_link(auth_emulator: str, email: str) -> str:
    codes = requests.get(f"http://{auth_emulator}/emulator/v1/projects/{project()}/oobCodes", timeout=10).json()
    [code] = [c for c in codes["oobCodes"] if c["email"] == email and c["requestType"] == "VERIFY_EMAIL"]
    return str(code["oobLink"])


def lookup(auth_emulator: str, email: str) -> dict[str, Any]:
    response = requests.post(
        f"http://{auth_emulator}/identitytoolkit.googleapis.com/v1/projects/{project()}/accounts:lookup",
        json={"email": [email]},
        headers={"Authorization": "Bearer owner"},
        timeout=10,
    )
    response.raise_for_status()
    return dict(response.json()["users"][0])


def test_a_student_signs_up_verifies_signs_out_and_signs_in_again(
    page: Any, web_url: str, gateway_url: str, auth_emulator: str
) -> None:
    email = f"new-{uuid.uuid4().hex[:10]}@example.test"
    page.goto(web_url)
    shot(page, "sign-in")
    page.get_by_role("button", name="New here? Create an account").click()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_response(lambda r: "/notifications/unread" in r.url) as unread:
        page.get_by_role("button", name="Continue").click()
    header = page.get_by_role("banner")
    header.get_by_text(email).wait_for()

    # The app's API calls went to the gateway's other loopback name: cross-origin, accepted
    # (a refused preflight would have failed the request instead).
    api = urlsplit(gateway_url).netloc
    assert urlsplit(page.url).netloc != api
    assert urlsplit(unread.value.url).netloc == api
    assert unread.value.status == 200
    assert unread.value.json() == {"unread": 0}

    # The SDK sent the verification email at sign-up; the student opens its link (the Auth
    # emulator's action page) and tells the app, which refreshes the user and its token.
    banner = page.locator("#verify-email")
    expect(banner).to_contain_text(f"Verify {email} to upload documents and use AI")
    banner.get_by_role("button", name="I have verified it").click()
    expect(banner.get_by_role("alert")).to_have_text("Not verified yet: open the link in the email first.")
    link = verification_link(auth_emulator, email)
    mail = page.context.new_page()
    mail.goto(link)
    expect(mail.locator("body")).to_contain_text("verified", ignore_case=True)
    mail.close()
    banner.get_by_role("button", name="I have verified it").click()
    expect(banner).to_have_count(0)
    assert lookup(auth_emulator, email)["emailVerified"] is True

    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="Sign in to Aksio").wait_for()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong email or password.")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    header.get_by_text(email).wait_for()
    assert page.watch.failed == []


@pytest.mark.parametrize("page", [PHONE], indirect=True)
def test_the_app_fits_a_phone_width_screen(page: Any, web_url: str, student: Student) -> None:
    sign_in(page, web_url, student.user.email)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways on a phone: {width}px"


@pytest.fixture
def foreign_origin() -> Iterator[str]:
    """A page on an origin the API does not allow (its own port on loopback)."""

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"<!doctype html><title>elsewhere</title>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()


FETCH = """async ([url, token]) => {
  try {
    const r = await fetch(url, {method: "PATCH", headers: {"Authorization": "Bearer " + token,
      "Content-Type": "application/json"}, body: JSON.stringify({displayName: "from elsewhere"})});
    return "status " + r.status;
  } catch (e) { return "blocked: " + e.name; }
}"""


def test_the_browser_blocks_an_origin_the_api_does_not_allow(
    page: Any, web_url: str, foreign_origin: str, gateway_url: str, student: Student
) -> None:
    token = student.user.id_token
    page.goto(foreign_origin)
    assert page.evaluate(FETCH, [f"{gateway_url}/account", token]) == "blocked: TypeError"
    assert student.api.ok("GET", "/account").get("displayName") is None  # the preflight stopped the write
    page.goto(web_url)  # the app's own origin: the same call passes the browser's checks
    assert page.evaluate(FETCH, [f"{gateway_url}/account", token]) == "status 200"
    assert student.api.ok("GET", "/account")["displayName"] == "from elsewhere"
