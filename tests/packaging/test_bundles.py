"""Each function's deployable bundle imports and serves in isolation.

A bundle (``make package``) is all Cloud Functions gets: main.py, the aksio package and
requirements.txt. Each one is imported in a fresh interpreter whose path holds the
bundle and the installed requirements, and nothing of this repository.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "local"))
import package  # noqa: E402

# Modules that must never load when a function starts unless it needs them (cold start).
HEAVY = ["openai", "stripe", "fsrs", "fsrs_rs_python", "torch", "pypdfium2", "docx", "pptx", "google.cloud.tasks_v2"]

PROBE = """
import json, sys
repo = {repo!r}
sys.path = [p for p in sys.path if not (p == '' or p.startswith(repo + '/lib') or p == repo)]
sys.path.insert(0, '.')
import functions_framework
app = functions_framework.create_app(target={target!r}, source='main.py', signature_type={signature!r})
import aksio, main
client = app.test_client()
status = client.put('/').status_code if {signature!r} == 'http' else None
mine = [m.__file__ for m in list(sys.modules.values()) if getattr(m, '__file__', None)
        and m.__file__.startswith(repo) and '/.venv/' not in m.__file__]
print(json.dumps({{"aksio": aksio.__file__, "mine": mine, "status": status,
                   "loaded": sorted(n for n in {heavy!r} if n in sys.modules)}}))
"""


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("build")
    for name in package.functions():
        package.build(name, out)
    return out


@pytest.mark.parametrize("name", package.functions())
def test_bundle_imports_alone_and_stays_light(bundles: Path, name: str) -> None:
    spec = json.loads((ROOT / "functions" / "functions.json").read_text())[name]
    bundle = bundles / name
    assert sorted(p.name for p in bundle.iterdir() if p.name != "__pycache__") == [
        "aksio",
        "main.py",
        "requirements.txt",
    ]
    signature = "cloudevent" if spec["trigger"] == "storage_finalized" else "http"
    code = PROBE.format(repo=str(ROOT), target=name.replace("-", "_"), signature=signature, heavy=HEAVY)
    # NO_GCE_CHECK: never probe the metadata server from here.
    env = {"PATH": "/usr/bin:/bin", "HOME": str(bundles), "GOOGLE_CLOUD_PROJECT": "demo-aksio", "NO_GCE_CHECK": "true"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=bundle, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["aksio"].startswith(str(bundle)), report
    assert report["mine"] == []
    assert report["loaded"] == [], f"{name} imports heavy modules at start: {report['loaded']}"
    if signature == "http":
        assert report["status"] == 405  # the request pipeline answers without touching a dependency
