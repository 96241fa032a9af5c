"""terraform/modules/web, parsed with python-hcl2: the web app's bucket is in the European
region, it is the only public bucket (the upload bucket stays private), and its config.json
points the app at the functions' region with Firebase's public identifiers, never cached."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "local"))

import terraform_iam as tf  # noqa: E402

PUBLIC = {"allUsers", "allAuthenticatedUsers"}


def modules() -> dict[str, Any]:
    return {k: v for block in tf.load(tf.TERRAFORM / "main.tf")["module"] for k, v in block.items()}


def variables(path: Path = tf.TERRAFORM / "variables.tf") -> dict[str, Any]:
    return {k: v for block in tf.load(path)["variable"] for k, v in block.items()}


def test_the_web_bucket_is_in_the_european_region() -> None:
    web = modules()["web"]
    assert web["source"] == "./modules/web"
    assert web["location"] == "${var.region}"
    region = variables()["region"]
    assert region["default"].startswith("europe-")
    assert '"^europe-' in region["validation"][0]["condition"]  # a European region, or plan fails
    bucket = tf.resources()["modules/web:google_storage_bucket.web"]
    assert bucket["location"] == "${var.location}"
    assert bucket["uniform_bucket_level_access"] is True
    assert bucket["website"] == [{"main_page_suffix": "index.html", "not_found_page": "index.html"}]


def test_only_the_web_bucket_is_public() -> None:
    resources = tf.resources()
    public_members = {
        address: body
        for address, body in resources.items()
        if "_iam_" in address and any(who in repr(body.get("member")) for who in PUBLIC)
    }
    assert set(public_members) == {"modules/web:google_storage_bucket_iam_member.public_read"}
    grant = public_members["modules/web:google_storage_bucket_iam_member.public_read"]
    assert (grant["bucket"], grant["role"]) == ("${google_storage_bucket.web.name}", "roles/storage.objectViewer")
    buckets = {a: b for a, b in resources.items() if a.split(":")[1].startswith("google_storage_bucket.")}
    assert "modules/storage:google_storage_bucket.uploads" in buckets
    open_to_public = {a for a, b in buckets.items() if b.get("public_access_prevention") != "enforced"}
    # the functions' source bucket is private by IAM (no public member above); the upload
    # bucket enforces it; only the web bucket lets allUsers read
    assert "modules/storage:google_storage_bucket.uploads" not in open_to_public
    assert resources["modules/web:google_storage_bucket.web"]["public_access_prevention"] == "inherited"


def test_config_json_points_at_the_functions_region_and_is_never_cached() -> None:
    config = tf.resources()["modules/web:google_storage_bucket_object.config"]
    assert config["name"] == "config.json"
    assert config["cache_control"] == "no-cache"
    assert config["content_type"] == "application/json"
    content = config["content"]
    api_base = r'apiBase = "https://\$\{var\.functions_region\}-\$\{var\.project_id\}\.cloudfunctions\.net"'
    assert re.search(api_base, content)
    for key in ("apiKey = var.firebase_api_key", "projectId = var.project_id", "authDomain ="):
        assert key in content, key
    # the functions' region is the one the functions are deployed in
    root = modules()
    assert root["web"]["functions_region"] == root["functions"]["region"] == "${var.region}"
    assert root["web"]["firebase_api_key"] == "${var.firebase_web_api_key}"


def test_the_firebase_web_api_key_is_declared_public_not_secret() -> None:
    key = variables()["firebase_web_api_key"]
    assert "not a secret" in key["description"].lower()
    assert key.get("sensitive") is not True
    assert not any("FIREBASE" in s for s in variables()["secret_ids"]["default"])
    assert "https://storage.googleapis.com" in tf.load(tf.TERRAFORM / "example.tfvars")["allowed_origins"]
