"""The gateway serves the built web app at ``/`` with production's security headers, its
settings at ``/config.json``, and nothing else of the disk."""

from __future__ import annotations

import os

import requests

from tests.conftest import need_env


def test_the_app_and_its_settings(gateway_url: str) -> None:
    page = requests.get(f"{gateway_url}/", timeout=10)
    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert '<script type="module" src="app.js"></script>' in page.text
    policy = dict(p.strip().split(" ", 1) for p in page.headers["Content-Security-Policy"].split(";"))
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    env = need_env("FIREBASE_AUTH_EMULATOR_HOST", "STORAGE_EMULATOR_HOST")
    assert set(policy["connect-src"].split()) == {
        "'self'",
        gateway_url,
        env["STORAGE_EMULATOR_HOST"],
        f"http://{env['FIREBASE_AUTH_EMULATOR_HOST']}",
    }
    script = requests.get(f"{gateway_url}/app.js", timeout=10)
    assert script.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert "Content-Security-Policy" not in script.headers  # only documents carry it
    assert len(script.content) > 10_000

    config = requests.get(f"{gateway_url}/config.json", timeout=10).json()
    assert config["apiBase"] == gateway_url
    assert config["authEmulator"] == f"http://{env['FIREBASE_AUTH_EMULATOR_HOST']}"
    assert config["firebase"]["projectId"] == os.environ["GOOGLE_CLOUD_PROJECT"]
    listing = requests.get(f"{gateway_url}/_functions", timeout=10).json()
    assert listing["functions"]["review-card"] == "/review-card"


def test_nothing_else_of_the_disk_is_served(gateway_url: str) -> None:
    paths = ("/app.js.map/../../package.json", "/%2e%2e/package.json", "/.aksio-built", "/build.mjs", "/src/main.js")
    for path in paths:
        answer = requests.get(f"{gateway_url}{path}", timeout=10)
        assert answer.status_code == 404, path
        assert answer.json()["error"]["code"] == "not_found"
