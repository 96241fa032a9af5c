"""terraform/modules/monitoring, read with python-hcl2 (terraform validate and plan need the
google provider, which only Cloud Build can fetch): the alert policies, the log-based metrics,
the uptime check and the dashboard are there, wired from the root, and each log-based metric
counts an event the code really logs (jsonPayload.event, grepped in lib/aksio)."""

from __future__ import annotations

import io
import json
import logging
import re
from functools import cache
from pathlib import Path
from typing import Any

import hcl2
import pytest

REPO = Path(__file__).resolve().parents[2]
TF = REPO / "terraform"
MODULE = TF / "modules" / "monitoring"
LIB = REPO / "lib" / "aksio"

BUSINESS_EVENTS = {
    "card_reviewed",  # reviews
    "cards_generated",  # cards generated
    "upload_ready",  # uploads ready
    "upload_failed",  # uploads failed
    "tutor_message",  # tutor messages
    "checkout_started",  # checkouts
    "checkout_completed",
}
POLICIES = {
    "error_ratio",  # 5xx ratio per function
    "latency_p95",  # p95 latency over target per function
    "tasks_attempts_failing",
    "webhook_failing",
    "process_upload_failing",
    "ai_disabled",
    "health_uptime",
}


def text(value: Any) -> Any:
    """python-hcl2 keeps HCL string literals quoted and escaped: the string itself."""
    if not (isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"'):
        return value
    out, depth, i, body = [], 0, 0, value[1:-1]
    while i < len(body):
        char = body[i]
        if depth == 0 and char == "\\":  # an escape of the literal part: \" \\ \n
            out.append({"n": "\n", "t": "\t"}.get(body[i + 1], body[i + 1]))
            i += 2
            continue
        if body.startswith("${", i):
            depth += 1
            out.append("${")
            i += 2
            continue
        if depth and char == "{":
            depth += 1
        elif depth and char == "}":
            depth -= 1
        out.append(char)
        i += 1
    return "".join(out)


@cache
def parsed(path: Path) -> dict[str, Any]:
    with path.open() as f:
        return dict(hcl2.load(f))


def blocks(path: Path, kind: str) -> dict[tuple[str, ...], dict[str, Any]]:
    """Labelled blocks of a file: {("google_x", "name"): body} for resources, {("name",): body}
    for modules, variables and outputs."""
    found: dict[tuple[str, ...], dict[str, Any]] = {}
    for block in parsed(path).get(kind, []):
        for label, body in block.items():
            if kind == "resource":
                for name, inner in body.items():
                    found[(text(label), text(name))] = inner
            else:
                found[(text(label),)] = body
    return found


def resources(kind: str) -> dict[str, dict[str, Any]]:
    return {name: body for (k, name), body in blocks(MODULE / "main.tf", "resource").items() if k == kind}


def module_locals() -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for block in parsed(MODULE / "main.tf").get("locals", []):
        merged.update(block)
    return merged


def log_events() -> dict[str, str]:
    return {k: text(v) for k, v in module_locals()["log_events"].items()}


def resolved(value: Any) -> Any:
    """A string with the module's string locals (``${local.run_requests}``...) put in."""
    value = text(value)
    if isinstance(value, str):
        for name, local in module_locals().items():
            if isinstance(local, str) and "${" not in text(local):
                value = value.replace("${local." + name + "}", text(local))
    return value


def conditions(policy: dict[str, Any]) -> list[dict[str, Any]]:
    """Each condition_threshold, its strings unquoted and with the locals put in."""
    return [{k: resolved(v) for k, v in c["condition_threshold"][0].items()} for c in policy["conditions"]]


def metric_events() -> dict[str, set[str]]:
    """Event names each log-based metric's filter selects (``${each.key}`` over its for_each)."""
    named: dict[str, set[str]] = {}
    for name, metric in resources("google_logging_metric").items():
        pattern = text(metric["filter"])
        events = set(re.findall(r'jsonPayload\.event="([^"]+)"', pattern))
        if "${each.key}" in events:
            assert metric["for_each"] == "${local.log_events}", name
            events = (events - {"${each.key}"}) | set(log_events())
        named[name] = events
    return named


def emitted(event: str) -> list[Path]:
    """Modules of lib/aksio that log with an ``"event"`` field and name ``event`` as a string."""
    literal = re.compile(rf"[\"']{re.escape(event)}[\"']")
    field = re.compile(r"[\"']event[\"']\s*:")
    return [p for p in LIB.rglob("*.py") if literal.search(s := p.read_text()) and field.search(s)]


# --- log-based metrics -----------------------------------------------------------------------


def test_a_counter_per_business_event() -> None:
    assert set(log_events()) >= BUSINESS_EVENTS
    assert "ai_disabled" in log_events()
    metric = resources("google_logging_metric")["events"]
    assert text(metric["filter"]) == 'resource.type="cloud_run_revision" AND jsonPayload.event="${each.key}"'
    descriptor = metric["metric_descriptor"][0]
    assert (text(descriptor["metric_kind"]), text(descriptor["value_type"])) == ("DELTA", "INT64")
    assert text(metric["label_extractors"]["function"]) == "EXTRACT(resource.labels.service_name)"


def test_cards_per_step_is_a_distribution_of_the_logged_count() -> None:
    metric = resources("google_logging_metric")["cards_per_step"]
    assert metric_events()["cards_per_step"] == {"cards_generated"}
    assert text(metric["value_extractor"]) == "EXTRACT(jsonPayload.cards)"
    assert text(metric["metric_descriptor"][0]["value_type"]) == "DISTRIBUTION"
    steps = (LIB / "generation" / "steps.py").read_text()
    assert re.search(r'"event": "cards_generated", [^\n]*"cards": written\[0\]', steps)


@pytest.mark.parametrize("event", sorted(set().union(*metric_events().values())))
def test_every_metric_counts_an_event_the_code_logs(event: str) -> None:
    assert emitted(event), f'no module of lib/aksio logs "event": "{event}"'


def test_the_grep_finds_no_event_that_is_not_there() -> None:
    assert emitted("card_reviewed")
    assert not emitted("card_reviewd")


def test_an_event_field_becomes_a_top_level_json_field() -> None:
    """What makes ``jsonPayload.event`` in Cloud Logging: aksio.log writes extra fields at the
    top level of the JSON line."""
    from aksio import log

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(log.JsonFormatter())
    logger = logging.getLogger("aksio.test.monitoring")
    logger.addHandler(handler)
    try:
        logger.warning("card reviewed", extra={"event": "card_reviewed"})
    finally:
        logger.removeHandler(handler)
    line = json.loads(stream.getvalue())
    assert line["event"] == "card_reviewed"
    assert line["message"] == "card reviewed"


# --- alert policies ----------------------------------------------------------------------------


def test_every_alert_policy_is_there_and_notifies_the_channels() -> None:
    policies = resources("google_monitoring_alert_policy")
    assert set(policies) == POLICIES
    for name, policy in policies.items():
        assert policy["notification_channels"] == "${local.channels}", name
        assert text(policy["documentation"][0]["content"]), name
        assert conditions(policy), name


def test_error_ratio_per_function() -> None:
    policy = resources("google_monitoring_alert_policy")["error_ratio"]
    assert policy["for_each"] == "${var.functions}"
    (condition,) = conditions(policy)
    assert 'resource.labels.service_name = "${each.key}"' in condition["filter"]
    assert 'response_code_class = "5xx"' in condition["filter"]
    assert "response_code_class" not in condition["denominator_filter"]
    assert condition["threshold_value"] == "${var.error_ratio_threshold}"


def test_p95_latency_per_http_function_against_its_target() -> None:
    policy = resources("google_monitoring_alert_policy")["latency_p95"]
    assert policy["for_each"] == "${local.latency_targets_ms}"
    assert 'fn.trigger == "http"' in module_locals()["http_functions"]
    (condition,) = conditions(policy)
    assert "run.googleapis.com/request_latencies" in condition["filter"]
    assert text(condition["aggregations"][0]["cross_series_reducer"]) == "REDUCE_PERCENTILE_95"
    assert condition["threshold_value"] == "${each.value}"


def test_latency_targets_name_http_functions_of_the_manifest() -> None:
    manifest = json.loads((REPO / "functions" / "functions.json").read_text())
    http = {name for name, fn in manifest.items() if fn["trigger"] == "http"}
    targets = blocks(TF / "variables.tf", "variable")[("latency_targets_ms",)]["default"]
    targets = {text(k): v for k, v in targets.items()}
    assert set(targets) <= http, set(targets) - http
    assert targets["review-card"] == 200  # the product's p95 < 200 ms


def test_async_failures_alert() -> None:
    policies = resources("google_monitoring_alert_policy")
    (tasks,) = conditions(policies["tasks_attempts_failing"])
    assert "cloudtasks.googleapis.com/queue/task_attempt_count" in tasks["filter"]
    assert 'response_code != "OK"' in tasks["filter"]
    assert "${var.tasks_queue}" in tasks["filter"]
    (webhook,) = conditions(policies["webhook_failing"])
    assert 'service_name = "stripe-webhook"' in webhook["filter"]
    assert 'response_code_class != "2xx"' in webhook["filter"]
    upload_5xx, upload_failed = conditions(policies["process_upload_failing"])
    assert 'service_name = "process-upload"' in upload_5xx["filter"]
    assert 'google_logging_metric.events["upload_failed"].name' in upload_failed["filter"]
    (ai,) = conditions(policies["ai_disabled"])
    assert 'google_logging_metric.events["ai_disabled"].name' in ai["filter"]


# --- uptime check and dashboard ----------------------------------------------------------------


def test_uptime_check_on_health() -> None:
    check = resources("google_monitoring_uptime_check_config")["health"]
    http = check["http_check"][0]
    assert http["path"] == "${var.health_path}"
    assert http["use_ssl"] is True
    assert text(check["monitored_resource"][0]["type"]) == "uptime_url"
    assert text(check["content_matchers"][0]["content"]) == '"status":"ok"'
    variables = blocks(MODULE / "variables.tf", "variable")
    assert text(variables[("health_path",)]["default"]) == "/health"
    (policy,) = conditions(resources("google_monitoring_alert_policy")["health_uptime"])
    assert "uptime_check_id" in policy["filter"]


def test_one_dashboard_showing_every_log_metric() -> None:
    (dashboard,) = resources("google_monitoring_dashboard").values()
    assert "dashboard.json.tftpl" in dashboard["dashboard_json"]
    template = (MODULE / "dashboard.json.tftpl").read_text()
    assert set(re.findall(r"\$\{(\w+)\}", template)) <= {"prefix", "queue", "uptime_check_id"}
    assert "%{" not in template
    doc = json.loads(template.replace("${prefix}", "aksio").replace("${queue}", "q").replace("${uptime_check_id}", "c"))
    tiles = doc["mosaicLayout"]["tiles"]
    filters = [
        d["timeSeriesQuery"]["timeSeriesFilter"]["filter"] for t in tiles for d in t["widget"]["xyChart"]["dataSets"]
    ]
    shown = {m.group(1) for f in filters if (m := re.search(r"logging\.googleapis\.com/user/aksio_(\w+)", f))}
    assert shown == set(log_events()) | {"cards_per_step"}
    assert any("run.googleapis.com/request_latencies" in f for f in filters)
    assert any("uptime_check/check_passed" in f for f in filters)
    cells = [
        (x, y)
        for t in tiles
        for x in range(t["xPos"], t["xPos"] + t["width"])
        for y in range(t["yPos"], t["yPos"] + t["height"])
    ]
    assert len(cells) == len(set(cells)), "tiles overlap"
    assert all(t["xPos"] + t["width"] <= doc["mosaicLayout"]["columns"] for t in tiles)


# --- the root module ---------------------------------------------------------------------------


def test_the_root_deploys_the_module_with_a_notification_channel_variable() -> None:
    module = blocks(TF / "main.tf", "module")[("monitoring",)]
    assert text(module["source"]) == "./modules/monitoring"
    assert module["functions"] == "${local.functions}"
    assert module["notification_channels"] == "${var.alert_notification_channels}"
    assert module["notification_email"] == "${var.alert_email}"
    assert text(module["health_host"]) == "${var.region}-${var.project_id}.cloudfunctions.net"
    variables = blocks(TF / "variables.tf", "variable")
    assert {("alert_notification_channels",), ("alert_email",), ("latency_targets_ms",)} <= set(variables)
    services = [text(s) for block in parsed(TF / "main.tf")["locals"] for s in block.get("services", [])]
    assert "monitoring.googleapis.com" in services
    assert ("monitoring",) in blocks(TF / "outputs.tf", "output")
