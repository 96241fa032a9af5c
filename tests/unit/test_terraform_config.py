"""The terraform configuration, parsed with python-hcl2: Europe by default, every regional
resource on the one region variable, data safety (PITR, daily backups, delete protection),
and every production setting a required, validated variable passed only where it is read."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "local"))

import terraform_iam as tf  # noqa: E402

REGION_KEYS = {"location", "region", "trigger_region", "location_id"}
# Root variables that place resources: the region, and the Firestore location.
PLACING_VARIABLES = {"${var.region}", "${var.firestore_location}"}
LITERAL_LOCATION = re.compile(
    r"\b(?:us|europe|asia|australia|northamerica|southamerica|me|africa)-[a-z]+\d+\b|\bnam\d\b|\beur\d\b"
)
REQUIRED = {"project_id", "web_domain", "allowed_origins", "billing_return_origins", "stripe_prices"}
# Which functions read which production setting (lib/aksio/billing: checkout and portal build
# return URLs; checkout sells the price, the webhook maps it back to a plan).
EXPECTED_CONFIG = {
    "create-checkout-session": {"stripe_prices", "billing_return_origins"},
    "create-portal-session": {"billing_return_origins"},
    "stripe-webhook": {"stripe_prices"},
}


def blocks(path: Path, kind: str) -> dict[str, Any]:
    return {k: v for block in tf.load(path).get(kind, []) for k, v in block.items()}


def variables(path: Path = tf.TERRAFORM / "variables.tf") -> dict[str, Any]:
    return blocks(path, "variable")


def placements(value: Any, trail: str = "") -> list[tuple[str, Any]]:
    """Every (path, value) of a region-like attribute in a parsed resource, nested blocks included."""
    found: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        for key, sub in value.items():
            if key in REGION_KEYS and not isinstance(sub, (dict, list)):
                found.append((f"{trail}.{key}", sub))
            else:
                found += placements(sub, f"{trail}.{key}")
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            found += placements(sub, f"{trail}[{i}]")
    return found


def module_placing_inputs(root: Path = tf.TERRAFORM) -> dict[str, set[str]]:
    """For each module directory, the input variables its resources are placed by."""
    placing: dict[str, set[str]] = {}
    for address, body in tf.resources(root).items():
        where = address.split(":")[0]
        for trail, value in placements(body):
            match = re.fullmatch(r"\$\{var\.(\w+)\}", str(value))
            if match:
                placing.setdefault(where, set()).add(match.group(1))
            else:
                # else it must follow another resource placed the same way
                assert re.fullmatch(r"\$\{google_[\w.\[\]]+\.location\}", str(value)), (address, trail, value)
    return placing


def test_every_regional_resource_follows_the_region_variable() -> None:
    placing = module_placing_inputs()
    assert placing, "no regional resource found: the parser lost them"
    modules = blocks(tf.TERRAFORM / "main.tf", "module")
    by_dir = {m["source"].removeprefix("./"): (name, m) for name, m in modules.items()}
    for where, inputs in placing.items():
        name, module = by_dir[where]
        for variable in inputs:
            assert module.get(variable) in PLACING_VARIABLES, (name, variable, module.get(variable))
    provider = blocks(tf.TERRAFORM / "main.tf", "provider")["google"]
    assert provider["region"] == "${var.region}"


def test_no_location_is_written_out_in_a_resource_or_module() -> None:
    for path in tf.tf_files():
        parsed = tf.load(path)
        for kind in ("resource", "module", "provider", "locals", "data"):
            text = repr(parsed.get(kind, []))
            assert not LITERAL_LOCATION.findall(text), (path, kind, LITERAL_LOCATION.findall(text))


def test_the_region_check_catches_a_hard_coded_location(tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "terraform"
    shutil.copytree(tf.TERRAFORM, copy)
    main = copy / "modules" / "tasks" / "main.tf"
    main.write_text(main.read_text().replace("location = var.location", 'location = "us-central1"', 1))
    try:
        module_placing_inputs(copy)
    except AssertionError:
        return
    raise AssertionError("a queue placed in us-central1 went unnoticed")


def test_the_defaults_are_european() -> None:
    v = variables()
    assert v["region"]["default"] == "europe-west1"
    assert v["firestore_location"]["default"] == "eur3"
    # and the validations refuse what is not
    assert "europe-" in v["region"]["validation"][0]["condition"]
    assert "europe-" in v["firestore_location"]["validation"][0]["condition"]


def test_point_in_time_recovery_backups_and_delete_protection_are_on() -> None:
    root = variables()
    module = variables(tf.TERRAFORM / "modules" / "firestore" / "variables.tf")
    assert root["firestore_point_in_time_recovery"]["default"] is True
    assert module["point_in_time_recovery"]["default"] is True
    assert root["firestore_delete_protection"]["default"] is True
    assert module["delete_protection"]["default"] is True
    assert 1 <= root["firestore_backup_retention_days"]["default"] <= 98
    resources = tf.resources()
    db = resources["modules/firestore:google_firestore_database.this"]
    assert db["point_in_time_recovery_enablement"] == (
        '${var.point_in_time_recovery ? "POINT_IN_TIME_RECOVERY_ENABLED" : "POINT_IN_TIME_RECOVERY_DISABLED"}'
    )
    assert db["delete_protection_state"] == (
        '${var.delete_protection ? "DELETE_PROTECTION_ENABLED" : "DELETE_PROTECTION_DISABLED"}'
    )
    assert db["deletion_policy"] == '${var.delete_protection ? "ABANDON" : "DELETE"}'
    schedule = resources["modules/firestore:google_firestore_backup_schedule.daily"]
    assert "daily_recurrence" in schedule
    assert schedule["retention"] == "${var.backup_retention_days * 86400}s"
    assert schedule["database"] == "${local.database}"
    modules = blocks(tf.TERRAFORM / "main.tf", "module")
    assert modules["firestore"]["backup_retention_days"] == "${var.firestore_backup_retention_days}"
    assert modules["firestore"]["point_in_time_recovery"] == "${var.firestore_point_in_time_recovery}"
    assert modules["firestore"]["delete_protection"] == "${var.firestore_delete_protection}"


def test_production_settings_are_required_and_validated() -> None:
    v = variables()
    for name in REQUIRED:
        assert "default" not in v[name], f"{name} must be required (no default): a missing one fails plan"
        assert v[name].get("validation"), f"{name} has no validation"
    # the defaulted ones still validate
    for name in ("region", "firestore_location", "prefix", "ai_provider", "firestore_backup_retention_days"):
        assert v[name].get("validation"), name


def test_the_example_tfvars_sets_every_required_variable_and_nothing_unknown() -> None:
    example = tf.load(tf.TERRAFORM / "example.tfvars")
    v = variables()
    assert set(example) >= REQUIRED
    assert set(example) <= set(v)
    assert example["region"] == v["region"]["default"]
    assert example["stripe_prices"]["STRIPE_PRICE_PRO"].startswith("price_")
    for name in ("allowed_origins", "billing_return_origins"):
        for origin in example[name]:
            assert re.fullmatch(r"https://[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?", origin), (name, origin)


def test_settings_go_to_exactly_the_functions_that_read_them() -> None:
    manifest = tf.manifest()
    declared = {name: set(fn.get("config", [])) for name, fn in manifest.items() if fn.get("config")}
    assert declared == EXPECTED_CONFIG
    env = tf.locals_of(tf.TERRAFORM / "modules" / "functions" / "main.tf")["function_env"]
    assert 'contains(fn.config, "stripe_prices") ? var.stripe_prices' in env
    assert 'contains(fn.config, "billing_return_origins") ? {' in env
    assert 'fn.trigger == "http" ? {' in env  # CORS_ORIGINS for the HTTP functions only
    modules = blocks(tf.TERRAFORM / "main.tf", "module")
    assert modules["functions"]["stripe_prices"] == "${var.stripe_prices}"
    # the operator's lists, with the web app's own origin always added (test_terraform_web.py)
    assert modules["functions"]["billing_return_origins"] == "${local.billing_return_origins}"
    assert modules["functions"]["cors_origins"] == "${local.cors_origins}"
    assert modules["storage"]["cors_origins"] == "${local.cors_origins}"
    origins = tf.locals_of(tf.TERRAFORM / "main.tf")
    assert "var.billing_return_origins" in origins["billing_return_origins"]
    assert "var.allowed_origins" in origins["cors_origins"]


def test_checkov_waivers_give_a_reason() -> None:
    for path in tf.tf_files():
        for line in path.read_text().splitlines():
            if "checkov:skip=" in line:
                _, _, rest = line.partition("checkov:skip=")
                check, _, reason = rest.partition(":")
                assert re.fullmatch(r"CKV2?_[A-Z]+_\d+", check), line
                assert len(reason.strip()) > 20, f"{path}: a waiver without its reason: {line.strip()}"
