"""cloudbuild.yaml's shape (every check before anything deploys; deploy steps gated on main)
and local/cloudbuild_dryrun.py's mechanics on small configs of its own (substitutions, order,
stopping at the first failure, stand-ins, the terraform stand-in). The dry runs of the real
config are in tests/e2e/test_cloudbuild_dryrun.py."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import cloudbuild_dryrun as dryrun
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]


def config() -> dict[str, Any]:
    return dict(yaml.safe_load((REPO / "cloudbuild.yaml").read_text()))


def steps() -> dict[str, dict[str, Any]]:
    return {s["id"]: s for s in config()["steps"]}


def script(step: dict[str, Any]) -> str:
    return "\n".join(str(a) for a in step.get("args", []))


# --- cloudbuild.yaml ---------------------------------------------------------------------------


def test_every_check_runs_before_anything_is_planned() -> None:
    order = [s["id"] for s in config()["steps"]]
    assert order == [
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
    assert "make contract BASE=${_CONTRACT_BASE}" in script(steps()["contract"])
    test = steps()["test"]
    assert [test["entrypoint"], *test["args"]] == ["make", "test", "PYTEST_ARGS=${_TEST_ARGS}"]
    assert config()["substitutions"]["_TEST_ARGS"] == ""  # the whole suite
    assert steps()["terraform-fmt"]["args"][:3] == ["fmt", "-check", "-recursive"]
    validate = script(steps()["terraform-validate"])
    assert "init -backend=false" in validate
    assert "validate" in validate.splitlines()[-1]
    assert "DEPLOY" not in validate  # pull requests validate too


def test_deploy_steps_run_only_when_deploy_is_true() -> None:
    assert config()["substitutions"]["_DEPLOY"] == "false"  # only the main trigger deploys
    for step_id in ("terraform-plan", "terraform-apply", "smoke", "web"):
        step = steps()[step_id]
        assert "DEPLOY=${_DEPLOY}" in step["env"]
        first = script(step).split("-ec\n", 1)[1].splitlines()[0]
        assert first == 'if [ "$$DEPLOY" != "true" ]; then', step_id


def test_plan_passes_the_production_settings_and_europe() -> None:
    subs = config()["substitutions"]
    assert subs["_REGION"] == "europe-west1"
    plan = steps()["terraform-plan"]
    text = script(plan)
    for env in ("STRIPE_PRICE_PRO", "BILLING_RETURN_ORIGINS", "ALLOWED_ORIGINS", "WEB_DOMAIN"):
        assert f"{env}=${{_{env}}}" in plan["env"]
        assert f'[ -n "$${env}" ] || missing=' in text  # an empty one stops the build
    assert '-var="stripe_prices={STRIPE_PRICE_PRO=\\"$$STRIPE_PRICE_PRO\\"}"' in text
    assert '-var="billing_return_origins=$$BILLING_RETURN_ORIGINS"' in text
    assert '-var="allowed_origins=$$ALLOWED_ORIGINS"' in text
    assert '-var="web_domain=$$WEB_DOMAIN"' in text
    assert subs["_WEB_DOMAIN"] == ""  # set on the main trigger; an empty one stops the plan
    assert '-var="region=${_REGION}"' in text
    assert '-var="firebase_web_api_key=${_FIREBASE_WEB_API_KEY}"' in text  # public, may be empty
    apply = script(steps()["terraform-apply"])
    assert "apply -input=false tfplan" in apply
    assert "output -json > build/terraform-outputs.json" in apply
    assert "local/smoke.py --terraform-outputs build/terraform-outputs.json" in script(steps()["smoke"])
    # where health serves the committed document in production (smoke.py's default too)
    assert subs["_OPENAPI_PATH"] == "/health/openapi.json"
    assert '--openapi-path "${_OPENAPI_PATH}"' in script(steps()["smoke"])


def test_the_web_step_uploads_web_dist_to_terraforms_web_bucket_after_smoke() -> None:
    order = [s["id"] for s in config()["steps"]]
    assert order.index("web") > order.index("smoke") > order.index("terraform-apply")
    text = script(steps()["web"])
    assert "local/publish_web.py --terraform-outputs build/terraform-outputs.json" in text
    outputs = (REPO / "terraform" / "outputs.tf").read_text()
    assert 'output "web"' in outputs
    assert re.search(r"\bbucket += module\.web\.bucket_name\n", outputs)  # what publish_web.py reads


def test_the_builder_image_is_the_one_local_builder_pushes() -> None:
    image = config()["substitutions"]["_BUILDER_IMAGE"]
    builder = yaml.safe_load((REPO / "local" / "builder" / "cloudbuild.yaml").read_text())
    assert image == builder["substitutions"]["_IMAGE"] + ":latest"
    assert {s["name"] for s in config()["steps"] if "terraform" not in s["id"]} == {"${_BUILDER_IMAGE}"}
    dockerfile = (REPO / "local" / "builder" / "Dockerfile").read_text()
    for tool in ("FROM python:3.11-", "FROM node:20-", "openjdk-17-", " make ", " git "):
        assert tool in dockerfile


def test_the_real_config_resolves_strictly() -> None:
    """Every $NAME of cloudbuild.yaml is a known substitution (Cloud Build with ALLOW_LOOSE
    would silently make a misspelt one empty)."""
    cfg = config()
    subs = dryrun.resolve_substitutions(cfg, dryrun.builtins(REPO, "p"), {})
    loaded = {s.id: s for s in dryrun.load_steps(cfg, subs)}
    assert subs["_TF_STATE_BUCKET"] == "p-tfstate"
    assert loaded["test"].name == "europe-west1-docker.pkg.dev/p/ci/aksio-builder:latest"
    assert 'if [ "$DEPLOY" != "true" ]' in loaded["smoke"].command[2]


# --- the dry-run runner ------------------------------------------------------------------------


def test_substitution_rules() -> None:
    subs = {"_A": "x", "PROJECT_ID": "p"}
    assert dryrun.substitute("$_A ${_A} $$HOME $${X} ${PROJECT_ID}-y", subs) == "x x $HOME ${X} p-y"
    with pytest.raises(dryrun.ConfigError, match=r"\$_MISSPELT"):
        dryrun.substitute("echo $_MISSPELT", subs)
    assert dryrun.substitute("[$_B]", subs, strict=False) == "[]"


def test_dynamic_substitutions_and_overrides() -> None:
    cfg = {"options": {"dynamicSubstitutions": True}, "substitutions": {"_B": "${PROJECT_ID}-b", "_C": "${_B}/c"}}
    subs = dryrun.resolve_substitutions(cfg, {"PROJECT_ID": "p"}, {"_D": "d"})
    assert (subs["_B"], subs["_C"], subs["_D"]) == ("p-b", "p-b/c", "d")
    static = dryrun.resolve_substitutions({"substitutions": {"_B": "${PROJECT_ID}"}}, {"PROJECT_ID": "p"}, {})
    assert static["_B"] == "${PROJECT_ID}"
    with pytest.raises(dryrun.ConfigError):
        dryrun.resolve_substitutions(cfg, {}, {"NOT_USER": "x"})


def run(
    tmp_path: Path, cfg: dict[str, Any], overrides: dict[str, str] | None = None, **kw: Any
) -> tuple[int, str, list[dict[str, Any]]]:
    """Dry-run ``cfg`` in ``tmp_path``: exit status, printed output, recorded events."""
    record = tmp_path / "record.jsonl"
    log = tmp_path / "out.log"
    subs = dryrun.resolve_substitutions(cfg, {"PROJECT_ID": "p"}, overrides or {})
    with log.open("w") as out:  # a real file: the steps' own output goes there too
        rc = dryrun.Runner(workspace=tmp_path, record=record, out=out, **kw).run(cfg, subs)
    events = [json.loads(line) for line in record.read_text().splitlines()] if record.exists() else []
    return rc, log.read_text(), events


def sh(step_id: str, command: str, **extra: Any) -> dict[str, Any]:
    return {"id": step_id, "name": "bash", "entrypoint": "sh", "args": ["-ec", command], **extra}


def test_steps_run_in_order_and_the_first_failure_stops_the_build(tmp_path: Path) -> None:
    cfg = {
        "substitutions": {"_WORD": "hello"},
        "options": {"env": ["GREETING=${_WORD}"]},
        "steps": [
            sh("one", 'echo "$$GREETING from $$STEP_VAR" > one.txt', env=["STEP_VAR=${PROJECT_ID}"]),
            sh("two", "exit 3"),
            sh("three", "touch three.txt"),
        ],
    }
    rc, output, events = run(tmp_path, cfg)
    assert rc == 1
    assert (tmp_path / "one.txt").read_text() == "hello from p\n"
    assert not (tmp_path / "three.txt").exists()
    assert [e["step"] for e in events if e["event"] == "step_start"] == ["one", "two"]
    assert events[-1] == {"event": "build_end", "ok": False, "failed": "two", "not_run": ["three"]}
    assert "dry run: FAILED at step two (exit 3); not run: three" in output


def test_a_stand_in_records_that_the_step_was_reached_without_running_it(tmp_path: Path) -> None:
    cfg = {"steps": [sh("deploy", "touch deployed.txt"), sh("after", "touch after.txt")]}
    rc, output, events = run(tmp_path, cfg, stand_ins={"deploy"})
    assert rc == 0
    assert not (tmp_path / "deployed.txt").exists()
    assert (tmp_path / "after.txt").exists()
    assert {"event": "stand_in", "step": "deploy"} in events
    assert "dry run: PASSED (2 steps)" in output
    with pytest.raises(dryrun.ConfigError, match="names no step"):
        run(tmp_path, cfg, stand_ins={"depoly"})


def test_the_terraform_stand_in(tmp_path: Path) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text('{"api_base_url": {"value": "http://x"}}')
    cfg = {
        "steps": [
            sh("plan", 'terraform -chdir=tf plan -out=tfplan -var="a=$$A"', env=["A=[1, 2]"]),
            sh("output", "terraform -chdir=tf output -json > out.json"),
            sh("unknown", "terraform state list"),
        ]
    }
    rc, _, events = run(tmp_path, cfg, terraform_outputs=outputs)
    assert rc == 1  # no stand-in for `state`: the build stops rather than pretend
    calls = [(e["step"], e["argv"], e["real"]) for e in events if e["event"] == "terraform"]
    assert calls == [
        ("plan", ["-chdir=tf", "plan", "-out=tfplan", "-var=a=[1, 2]"], False),
        ("output", ["-chdir=tf", "output", "-json"], False),
        ("unknown", ["state", "list"], False),
    ]
    assert json.loads((tmp_path / "out.json").read_text()) == {"api_base_url": {"value": "http://x"}}


def test_the_callers_stack_and_make_variables_do_not_leak_into_steps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GATEWAY_URL", "http://outer")
    monkeypatch.setenv("MAKEFLAGS", "PYTEST_ARGS=outer")
    cfg = {"steps": [sh("env", 'echo "[$${GATEWAY_URL:-}][$${MAKEFLAGS:-}]" > env.txt')]}
    rc, _, _ = run(tmp_path, cfg)
    assert rc == 0
    assert (tmp_path / "env.txt").read_text() == "[][]\n"


@pytest.mark.parametrize(
    ("step", "error"),
    [
        ({"id": "a", "name": "x", "args": ["y"]}, "no entrypoint"),
        ({"id": "a", "name": "x", "entrypoint": "sh", "waitFor": ["-"]}, "does not support waitFor"),
        ({"id": "a", "name": "x", "entrypoint": "sh", "timeout": "10m"}, "in seconds"),
    ],
)
def test_configs_the_dry_run_cannot_honour_are_refused(step: dict[str, Any], error: str) -> None:
    with pytest.raises(dryrun.ConfigError, match=re.escape(error)):
        dryrun.load_steps({"steps": [step]}, {})
