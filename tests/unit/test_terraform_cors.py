"""The upload bucket's CORS rule has one source, terraform/modules/storage/cors.json: the
bucket's ``cors`` block reads it (python-hcl2), the local storage applies it, and it lets a
browser send every header a signed upload URL signs."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "local"))

import storage_cors  # noqa: E402
import terraform_iam as tf  # noqa: E402
from stack import settings  # noqa: E402

from aksio.documents import signing  # noqa: E402

STORAGE = tf.TERRAFORM / "modules" / "storage"
RULE = STORAGE / "cors.json"


def test_the_bucket_cors_block_is_read_from_cors_json() -> None:
    assert tf.locals_of(STORAGE / "main.tf")["cors"] == '${jsondecode(file("${path.module}/cors.json"))}'
    bucket = tf.resources()["modules/storage:google_storage_bucket.uploads"]
    (dynamic,) = [d["cors"] for d in bucket["dynamic"] if "cors" in d]
    assert dynamic["for_each"] == "${length(var.cors_origins) > 0 ? [local.cors] : []}"
    assert dynamic["content"] == [
        {
            "origin": "${var.cors_origins}",
            "method": "${cors.value.method}",
            "response_header": "${cors.value.responseHeader}",
            "max_age_seconds": "${cors.value.maxAgeSeconds}",
        }
    ]
    modules = {k: v for block in tf.load(tf.TERRAFORM / "main.tf")["module"] for k, v in block.items()}
    assert modules["storage"]["cors_origins"] == "${local.cors_origins}"  # allowed_origins + the web app's


def test_the_local_storage_applies_the_same_file() -> None:
    assert storage_cors.DEFAULT_RULE == RULE
    assert settings.CORS_RULE == RULE
    cors = storage_cors.Cors.load(RULE, ["http://a.test"])
    rule = json.loads(RULE.read_text())
    assert list(cors.response_headers) == rule["responseHeader"]
    assert cors.max_age == rule["maxAgeSeconds"] > 0


def test_the_rule_allows_what_a_signed_put_makes_the_browser_send() -> None:
    rule = json.loads(RULE.read_text())
    assert "PUT" in rule["method"]
    assert "DELETE" not in rule["method"]  # browsers only upload and read
    listed = {h.lower() for h in rule["responseHeader"]}
    signed = {"content-type", signing.LENGTH_RANGE_HEADER.lower(), signing.GENERATION_MATCH_HEADER.lower()}
    assert signed <= listed, signed - listed
