"""The API contract under fuzzing: schemathesis, run as a client would run it (its CLI), against
the gateway's ``/openapi.json`` with a new signed-in user.

Every operation, all four phases: the schema's examples, coverage (boundary values of each
keyword), fuzzing (positive and negative data) and the stateful phase, which chains calls by
the document's links (create, then read, update, delete what was made). Checked on every
answer: not a server error, a documented status, a documented content type, a body that
conforms to the documented schema. Bounded (``EXAMPLES`` per operation) and deterministic
(Hypothesis derandomized, no example database), so the same code gets the same cases.

Besides zero failures, no operation may reject most of the data its schema admits
(schemathesis's "validation mismatch"): the schema says what validation requires.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import User, need_env

pytestmark = pytest.mark.stack

CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance", "response_schema_conformance")
PHASES = ("examples", "coverage", "fuzzing", "stateful")
EXAMPLES = 60  # per operation and phase: the whole run takes about 50 s on two cores
HOOKS = Path(__file__).with_name("fuzz_hooks.py")
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
REPORT = "schemathesis.json"


def run_schemathesis(gateway_url: str, user: User, workdir: Path) -> subprocess.CompletedProcess[str]:
    """The CLI in ``workdir`` (a fresh one: schemathesis replays the failures it cached in its
    working directory, and Hypothesis keeps its caches there too), its JSON report there."""
    command = [
        str(SCHEMATHESIS),
        "run",
        f"{gateway_url}/openapi.json",
        "--header",
        f"Authorization: Bearer {user.id_token}",
        "--checks",
        ",".join(CHECKS),
        "--phases",
        ",".join(PHASES),
        "--max-examples",
        str(EXAMPLES),
        "--generation-deterministic",
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--no-color",
        "--report",
        "json",
        "--report-json-path",
        str(workdir / REPORT),
    ]
    env = os.environ | {"SCHEMATHESIS_HOOKS": str(HOOKS)}
    return subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=240, check=False)


def test_the_contract_holds_under_fuzzing(
    gateway_url: str, user: User, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    need_env("STRIPE_WEBHOOK_SECRET")  # the hooks sign the webhook's events with it
    report_path = tmp_path / REPORT
    started = time.perf_counter()
    result = run_schemathesis(gateway_url, user, tmp_path)
    seconds = time.perf_counter() - started
    output = result.stdout[-12000:] + result.stderr[-3000:]
    assert report_path.exists(), output
    report = json.loads(report_path.read_text())
    operations, cases = report["operations"], report["test_cases"]
    with capsys.disabled():
        print(
            f"\nschemathesis: {operations['tested']}/{operations['total']} operations, "
            f"{cases['generated']} examples, {len(report['failures'])} failures, "
            f"{len(report['errors'])} errors, {seconds:.1f} s"
        )
    assert report["failures"] == [], output
    assert report["errors"] == [], output
    assert cases["with_failures"] == 0, output
    assert cases["errored"] == 0, output
    assert operations["tested"] == operations["total"] == operations["selected"], output
    assert {name: phase["status"] for name, phase in report["phases"].items()} == dict.fromkeys(PHASES, "success")
    assert report["warnings"]["validation_mismatch"] == [], output
    assert result.returncode == 0, output
