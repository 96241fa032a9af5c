"""local/publish_web.py (Cloud Build's ``web`` step) against a real storage emulator: the built
app uploaded with its types and no-cache, stale files deleted, terraform's config.json kept,
the bucket read from ``terraform output -json``."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.stack.conftest import PYTHON, REPO

WEB_BUCKET = "demo-aksio-aksio-web"


def test_publishes_the_build_and_keeps_terraforms_config(
    tmp_path: Path, storage_emulator: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    monkeypatch.setenv("STORAGE_EMULATOR_HOST", storage_emulator)
    client = storage.Client(project="demo-aksio", credentials=AnonymousCredentials())
    bucket = client.create_bucket(WEB_BUCKET)
    terraforms = '{"apiBase": "https://europe-west1-p.cloudfunctions.net"}'
    bucket.blob("config.json").upload_from_string(terraforms, content_type="application/json")
    bucket.blob("old.js").upload_from_string("stale", content_type="text/javascript")  # a previous deploy's
    dist = tmp_path / "dist"
    (dist / "img").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>Aksio</title>")
    (dist / "app.js").write_text("console.log('aksio')")
    (dist / "img" / "logo.svg").write_text("<svg/>")
    (dist / "config.json").write_text('{"apiBase": "http://127.0.0.1:8000"}')  # a local one: never uploaded
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"web": {"sensitive": False, "type": "object", "value": {"bucket": WEB_BUCKET}}}))

    env = {**os.environ, "STORAGE_EMULATOR_HOST": storage_emulator}
    argv = [PYTHON, str(REPO / "local" / "publish_web.py"), "--terraform-outputs", str(outputs), "--dist", str(dist)]
    argv += ["--project", "demo-aksio"]
    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 files uploaded, 1 stale deleted" in result.stdout

    objects = {b.name: b for b in client.list_blobs(WEB_BUCKET)}
    assert set(objects) == {"index.html", "app.js", "img/logo.svg", "config.json"}
    assert objects["index.html"].content_type == "text/html"
    assert objects["app.js"].content_type == "text/javascript"
    assert objects["img/logo.svg"].content_type == "image/svg+xml"
    assert [objects[n].cache_control for n in ("index.html", "app.js", "img/logo.svg")] == ["no-cache"] * 3
    assert bucket.blob("config.json").download_as_text() == terraforms
    assert bucket.blob("app.js").download_as_text() == "console.log('aksio')"


def test_refuses_a_build_without_index(tmp_path: Path) -> None:
    (tmp_path / "dist").mkdir()
    argv = [PYTHON, str(REPO / "local" / "publish_web.py"), "--bucket", WEB_BUCKET, "--dist", str(tmp_path / "dist")]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode != 0
    assert "index.html is missing" in result.stderr
