"""Browser tests: the web app (web/dist, served by the gateway at ``/``) driven in Debian's
Chromium by Playwright, through the whole local stack, as a student uses it.

The page is opened at ``http://localhost:<gateway port>/`` while its API base is
``http://127.0.0.1:<gateway port>`` (``/config.json``), so every API call is cross-origin and
the browser's own CORS checks (preflights included) run on each of them. Uploads PUT to the
storage front on its own origin, the Auth SDK talks to the Auth emulator on its own.

Each main screen is saved as a PNG under ``$AKSIO_ARTIFACTS`` (default ``.local/artifacts/
browser``) by :func:`shot`; ``make screenshots`` copies the study, tutor and stats screens into
``docs/``. The browser is ``$AKSIO_CHROMIUM`` (default ``/usr/bin/chromium``, installed by
``make install``); nothing is downloaded at run time.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import PASSWORD, User, need_env, sign_up
from tests.e2e.documents.conftest import Client

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("AKSIO_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("AKSIO_ARTIFACTS", ROOT / ".local" / "artifacts" / "browser"))
# Chromium's own background traffic (updates, sync, safe browsing) would be refused by a closed
# network; these flags keep it quiet and the runs reproducible.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}

WIDER_THAN_VIEWPORT = """() => [...document.querySelectorAll("body *")]
  .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
  .slice(0, 5).map((e) => `${e.tagName.toLowerCase()}.${e.getAttribute("class") || ""}`)"""


def assert_fits_width(page: Any) -> None:
    """The page does not scroll sideways; else the elements sticking out are named."""
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.viewport_size["width"]
    assert width <= viewport, f"{width}px wide in {viewport}px: {page.evaluate(WIDER_THAN_VIEWPORT)}"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make install` installs Debian's chromium (or set AKSIO_CHROMIUM)")
    if not (ROOT / "web" / "dist" / "index.html").exists():
        pytest.fail("web/dist is not built: `make install` builds it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def web_url() -> str:
    gateway = need_env("GATEWAY_URL")["GATEWAY_URL"].rstrip("/")
    return gateway.replace("://127.0.0.1", "://localhost") + "/"


@dataclass
class Watch:
    """What the page did that a test may assert on: console errors, failed requests (CORS
    refusals show up as failed requests with net::ERR_FAILED) and every API response."""

    console_errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    responses: list[tuple[str, str, int]] = field(default_factory=list)

    def api_calls(self, method: str, pattern: str) -> list[int]:
        return [status for m, url, status in self.responses if m == method and re.search(pattern, url)]


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    viewport = getattr(request, "param", DESKTOP)
    context = browser.new_context(viewport=viewport, locale="en-GB", timezone_id="Europe/Oslo")
    context.set_default_timeout(20_000)
    page = context.new_page()
    watch = Watch()
    page.on("console", lambda msg: watch.console_errors.append(msg.text) if msg.type == "error" else None)
    page.on("requestfailed", lambda req: watch.failed.append(f"{req.method} {req.url} {req.failure}"))
    page.on("response", lambda res: watch.responses.append((res.request.method, res.url, res.status)))
    page.watch = watch
    try:
        yield page
    finally:
        context.close()
    # The gateway sends production's Content-Security-Policy: nothing the app did may break it.
    violations = [e for e in watch.console_errors if "Content Security Policy" in e]
    assert violations == [], violations


def shot(page: Any, name: str) -> Path:
    """Save the page as ``<name>.png`` among the test artifacts (the whole page)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@dataclass
class Student:
    user: User
    api: Client  # the signed-in user's API client (uploads through signed URLs too)
    password: str = PASSWORD


def sign_in(page: Any, web_url: str, email: str, password: str = PASSWORD) -> None:
    """Sign in through the app's own form (the Firebase Auth web SDK against the emulator)."""
    page.goto(web_url)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("navigation", name="Main").wait_for()


@pytest.fixture
def student(auth_emulator: str, gateway_url: str) -> Student:
    """A user made through the Auth emulator's REST API (what the SDK's sign-up calls), with
    the email verified (as after opening the link), and an API client for arranging data; the
    test then signs in through the page."""
    user = sign_up(auth_emulator)
    response = requests.post(
        f"http://{auth_emulator}/identitytoolkit.googleapis.com/v1/accounts:update",
        json={"localId": user.uid, "emailVerified": True},
        headers={"Authorization": "Bearer owner"},  # the emulator's admin credential
        timeout=10,
    )
    response.raise_for_status()
    return Student(user=user, api=Client(gateway_url, user, requests.Session()))


@pytest.fixture
def signed_in(page: Any, web_url: str, student: Student) -> Student:
    sign_in(page, web_url, student.user.email)
    return student


AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"


def accessibility_problems(page: Any) -> list[str]:
    """axe-core's WCAG 2.1 A/AA check of the page as it is now: the serious and critical
    violations, one line each (rule, impact, the first offending element)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol: the page's CSP (no inline scripts) stays on.
        page.evaluate(AXE.read_text() + "\n;undefined")
    result = page.evaluate(
        "() => axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {v['nodes'][0]['target']}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
