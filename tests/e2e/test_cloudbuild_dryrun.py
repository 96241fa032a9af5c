"""cloudbuild.yaml, dry-run on this machine with local/cloudbuild_dryrun.py: a pull-request
build and a main build end green; a failing e2e test stops a main build before anything is
planned or applied.

Each build runs the config's steps for real on the host (``make test`` starts its own local
stack; ``make package``; the smoke test), with a reduced test selection through ``_TEST_ARGS``
(the real triggers leave it empty: the whole suite). terraform is the dry run's stand-in:
``fmt`` runs the real binary when there is one, ``init``/``validate``/``plan``/``apply`` are
recorded (they need the google provider), and ``output -json`` names the functions of the
enclosing stack's gateway, which the main build's smoke step then checks for real.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
DRYRUN = REPO / "local" / "cloudbuild_dryrun.py"
# Small, but through the local stack: the smoke test's own tests against the build's gateway.
SUBSET = "tests/e2e/test_smoke.py::test_green_against_the_local_gateway"
PRODUCTION = {
    "_STRIPE_PRICE_PRO": "price_1DryRunPro",
    "_BILLING_RETURN_ORIGINS": '["https://app.example.test"]',
    "_ALLOWED_ORIGINS": '["https://app.example.test"]',
    "_WEB_DOMAIN": "app.example.test",
}
BROKEN_E2E = '''
import os
import urllib.request


def test_health_is_a_teapot():
    """Deliberately failing: health answers 200, not 418."""
    with urllib.request.urlopen(os.environ["GATEWAY_URL"] + "/health/", timeout=30) as response:
        assert response.status == 418
'''


@dataclass
class Build:
    rc: int
    output: str
    events: list[dict[str, Any]]

    def terraform(self) -> list[list[str]]:
        return [e["argv"] for e in self.events if e["event"] == "terraform"]

    def ended(self, step: str) -> int | None:
        return next((e["rc"] for e in self.events if e["event"] == "step_end" and e["step"] == step), None)

    def started(self) -> list[str]:
        return [e["step"] for e in self.events if e["event"] == "step_start"]


def dry_run(workdir: Path, name: str, substitutions: dict[str, str], stand_ins: tuple[str, ...] = ()) -> Build:
    record = workdir / f"{name}.jsonl"
    args = [sys.executable, str(DRYRUN), "--record", str(record), "--terraform-outputs", str(workdir / "outputs.json")]
    for step in stand_ins:
        args += ["--stand-in", step]
    for key, value in substitutions.items():
        args += ["-s", f"{key}={value}"]
    result = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=280, check=False)
    events = [json.loads(line) for line in record.read_text().splitlines()] if record.exists() else []
    return Build(result.returncode, result.stdout + result.stderr, events)


@pytest.fixture(scope="module")
def builds(gateway_url: str) -> Iterator[dict[str, Build]]:
    # Under the repository (so pytest reads its settings) but in .local/, which ruff and git skip.
    workdir = REPO / ".local" / f"dryrun-{uuid.uuid4().hex[:8]}"
    workdir.mkdir(parents=True)
    names = json.loads((REPO / "functions" / "functions.json").read_text())
    outputs = {
        "function_urls": {"sensitive": False, "type": "map", "value": {n: f"{gateway_url}/{n}" for n in names}},
        "api_base_url": {"sensitive": False, "type": "string", "value": gateway_url},
    }
    (workdir / "outputs.json").write_text(json.dumps(outputs))
    broken = workdir / "test_broken_e2e.py"
    broken.write_text(BROKEN_E2E)
    broken_args = f"{SUBSET} {broken.relative_to(REPO)}"
    try:
        # The two builds that never package run side by side (a package step would race), then main.
        with ThreadPoolExecutor(2) as pool:
            pr = pool.submit(dry_run, workdir, "pr", {"_TEST_ARGS": SUBSET})
            failing = pool.submit(
                dry_run, workdir, "failing", {"_DEPLOY": "true", "_TEST_ARGS": broken_args} | PRODUCTION
            )
            done = {"pr": pr.result(), "failing": failing.result()}
        # The gateway's own document: production's health serves it at /health/openapi.json.
        main = {"_DEPLOY": "true", "_TEST_ARGS": SUBSET, "_OPENAPI_PATH": "/openapi.json"} | PRODUCTION
        # The web step's upload needs gcloud and the real bucket: reached, not run.
        done["main"] = dry_run(workdir, "main", main, stand_ins=("web",))
        yield done
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def command(argv: list[str]) -> str:
    return next(a for a in argv if not a.startswith("-"))


ALL_STEPS = [
    "contract",
    "test",
    "package",
    "terraform-fmt",
    "terraform-validate",
    "terraform-plan",
    "terraform-apply",
    "smoke",
    "web",
]


def test_pull_request_build_checks_everything_and_deploys_nothing(builds: dict[str, Build]) -> None:
    pr = builds["pr"]
    assert pr.rc == 0, pr.output[-4000:]
    assert "dry run: PASSED (9 steps)" in pr.output
    assert pr.started() == ALL_STEPS
    assert all(pr.ended(step) == 0 for step in ALL_STEPS)
    assert "1 passed" in pr.output  # make test ran the selected e2e test on its own stack
    commands = [command(argv) for argv in pr.terraform()]
    assert commands == ["fmt", "init", "validate"]  # nothing planned, applied or read back
    assert "nothing deployed, no smoke test" in pr.output
    assert "nothing deployed, no web app uploaded" in pr.output


def test_main_build_plans_applies_and_smoke_tests(builds: dict[str, Build]) -> None:
    main = builds["main"]
    assert main.rc == 0, main.output[-4000:]
    assert "dry run: PASSED (9 steps)" in main.output
    calls = main.terraform()
    commands = [command(argv) for argv in calls]
    assert commands == ["fmt", "init", "validate", "init", "plan", "apply", "output"]
    plan = calls[4]
    assert '-var=stripe_prices={STRIPE_PRICE_PRO="price_1DryRunPro"}' in plan
    assert '-var=billing_return_origins=["https://app.example.test"]' in plan
    assert '-var=allowed_origins=["https://app.example.test"]' in plan
    assert "-var=web_domain=app.example.test" in plan
    assert "-var=region=europe-west1" in plan
    # the smoke step ran against the "deployed" functions (this stack's gateway) and passed
    assert "smoke: 4 passed, 0 failed" in main.output
    assert {"event": "stand_in", "step": "web"} in main.events  # reached once the API passed smoke


def test_a_failing_e2e_test_stops_main_before_apply(builds: dict[str, Build]) -> None:
    failing = builds["failing"]
    assert failing.rc == 1, failing.output[-4000:]
    # the build's make test ran its tests (lint passed) and the injected one failed
    assert "test_broken_e2e.py::test_health_is_a_teapot" in failing.output
    assert "E           assert 200 == 418" in failing.output
    assert "1 failed, 1 passed" in failing.output
    assert failing.ended("test") not in (None, 0)
    assert failing.started() == ["contract", "test"]
    assert "dry run: FAILED at step test" in failing.output
    assert failing.terraform() == []  # neither plan nor apply was reached
    assert "smoke:" not in failing.output
