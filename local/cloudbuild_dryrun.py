"""Dry run of a Cloud Build config on this machine, without Docker.

Reads ``cloudbuild.yaml``, applies the substitutions as Cloud Build does (built-ins, the
config's defaults, ``--substitution`` overrides, ``dynamicSubstitutions``, ``$$`` for a literal
``$``), then runs each step's ``entrypoint`` and ``args`` on the host, in order, in the
workspace (the repository), with ``options.env`` and the step's ``env``; it stops at the first
step that fails, as Cloud Build does, and exits 1 (0 when every step passed).

What differs from Cloud Build, said plainly:

- the step's image is not pulled: its entrypoint runs with the host's tools (Python 3.11,
  Node 20, make, ...: the builder image's toolchain, see ``local/builder/Dockerfile``);
- ``terraform`` is a stand-in by default (``--terraform stand-in``): a program first on PATH
  that records each call. ``fmt`` is delegated to a real ``terraform`` when one is on PATH
  (else recorded as stood in); ``init``, ``validate``, ``plan`` and ``apply`` need the google
  provider and the GCS state, unreachable here, so they are only recorded; ``output -json``
  prints ``--terraform-outputs`` (the "deployed" functions, e.g. the local gateway's URLs).
  ``--terraform real`` runs the real binary for everything (with network and credentials);
- ``--stand-in STEP_ID`` replaces a whole step by a record that it was reached;
- an unknown ``$NAME`` is an error here (Cloud Build with ``ALLOW_LOOSE`` would make it empty);
- steps run one after another (``waitFor`` is refused).

``--record FILE`` appends one JSON line per event (``step_start``, ``step_end`` with its exit
status, ``stand_in``, ``terraform`` with its argv and whether it was real) for tests to read.

    .venv/bin/python local/cloudbuild_dryrun.py                          # a pull-request build
    .venv/bin/python local/cloudbuild_dryrun.py -s _DEPLOY=true -s _STRIPE_PRICE_PRO=price_x \\
        -s _BILLING_RETURN_ORIGINS='["https://app"]' -s _ALLOWED_ORIGINS='["https://app"]' \\
        -s _WEB_DOMAIN=app.example.com --terraform-outputs outputs.json   # a main build
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
_REF = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")
_STEP_KEYS = {"id", "name", "entrypoint", "args", "env", "dir", "timeout"}
# Variables of the caller's environment a Cloud Build step would not have: an enclosing local
# stack's client variables (the build's `make test` starts its own), an enclosing make's.
_SCRUB = (
    "FIRESTORE_EMULATOR_HOST",
    "FIREBASE_AUTH_EMULATOR_HOST",
    "STORAGE_EMULATOR_HOST",
    "CLOUD_TASKS_EMULATOR_HOST",
    "STRIPE_API_BASE",
    "FCM_API_BASE",
    "GATEWAY_URL",
    "SCHEDULER_URL",
    "UPLOAD_BUCKET",
    "TASKS_QUEUE",
    "TASKS_LOCATION",
    "TASKS_AUTH_SECRET",
    "AKSIO_STACK",
    "AKSIO_STACK_COMPONENTS",
    "AKSIO_LOCAL_DIR",
    "MAKEFLAGS",
    "MAKELEVEL",
    "MFLAGS",
    "MAKEOVERRIDES",
    "PYTEST_CURRENT_TEST",
    "PYTEST_ADDOPTS",
)


class ConfigError(Exception):
    pass


def substitute(value: str, subs: Mapping[str, str], *, strict: bool = True) -> str:
    """Cloud Build's substitution of one string: ``$$`` is a literal ``$``; ``$NAME`` and
    ``${NAME}`` are replaced (an unknown name is an error when ``strict``, else empty)."""

    def repl(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1) or match.group(2)
        if name in subs:
            return subs[name]
        if strict:
            raise ConfigError(f"unknown substitution ${name} in {value!r} (write $$ for a literal $)")
        return ""

    return _REF.sub(repl, value)


def builtins(workspace: Path, project: str) -> dict[str, str]:
    def git(*args: str) -> str:
        result = subprocess.run(["git", *args], cwd=workspace, capture_output=True, text=True, check=False)
        return result.stdout.strip() if result.returncode == 0 else ""

    sha = git("rev-parse", "HEAD") or "0" * 40
    return {
        "PROJECT_ID": project,
        "PROJECT_NUMBER": "123456789012",
        "BUILD_ID": str(uuid.uuid4()),
        "LOCATION": "global",
        "COMMIT_SHA": sha,
        "REVISION_ID": sha,
        "SHORT_SHA": sha[:7],
        "BRANCH_NAME": git("rev-parse", "--abbrev-ref", "HEAD") or "dry-run",
        "TAG_NAME": "",
        "REPO_NAME": workspace.name,
        "REPO_FULL_NAME": workspace.name,
        "TRIGGER_NAME": "dry-run",
        "TRIGGER_BUILD_CONFIG_PATH": "cloudbuild.yaml",
        "SERVICE_ACCOUNT_EMAIL": f"dry-run@{project}.iam.gserviceaccount.com",
        "SERVICE_ACCOUNT": f"projects/{project}/serviceAccounts/dry-run@{project}.iam.gserviceaccount.com",
    }


def resolve_substitutions(
    config: Mapping[str, Any], base: Mapping[str, str], overrides: Mapping[str, str]
) -> dict[str, str]:
    """Built-ins, then the config's defaults overridden by ``overrides``; with
    ``dynamicSubstitutions`` the values may name each other (resolved until stable)."""
    declared = {str(k): "" if v is None else str(v) for k, v in (config.get("substitutions") or {}).items()}
    for key in overrides:
        if not key.startswith("_"):
            raise ConfigError(f"user substitutions start with an underscore: {key}")
    user = {**declared, **overrides}
    subs = {**base, **user}
    if (config.get("options") or {}).get("dynamicSubstitutions"):
        for _ in range(10):
            expanded = {k: substitute(v, subs) if k in user else v for k, v in subs.items()}
            if expanded == subs:
                break
            subs = expanded
        else:
            raise ConfigError("substitutions refer to each other in a cycle")
    return subs


@dataclass
class Step:
    id: str
    name: str
    command: list[str]
    env: dict[str, str]
    dir: str
    timeout: float | None


def _seconds(value: Any) -> float | None:
    if value is None:
        return None
    text = str(value)
    if not text.endswith("s"):
        raise ConfigError(f"a timeout is a duration in seconds like '600s', not {text!r}")
    return float(text[:-1])


def _env_list(items: Any, subs: Mapping[str, str], where: str) -> dict[str, str]:
    env: dict[str, str] = {}
    for item in items or []:
        key, sep, value = substitute(str(item), subs).partition("=")
        if not sep:
            raise ConfigError(f"{where}: env entries are KEY=VALUE, not {item!r}")
        env[key] = value
    return env


def load_steps(config: Mapping[str, Any], subs: Mapping[str, str]) -> list[Step]:
    steps: list[Step] = []
    seen: set[str] = set()
    for index, raw in enumerate(config.get("steps") or []):
        step_id = str(raw.get("id") or f"step-{index}")
        unknown = set(raw) - _STEP_KEYS
        if unknown:
            raise ConfigError(f"step {step_id}: the dry run does not support {', '.join(sorted(unknown))}")
        if step_id in seen:
            raise ConfigError(f"two steps have the id {step_id}")
        seen.add(step_id)
        if not raw.get("entrypoint"):
            raise ConfigError(f"step {step_id} has no entrypoint: the dry run cannot know its image's default")
        command = [substitute(str(raw["entrypoint"]), subs), *(substitute(str(a), subs) for a in raw.get("args") or [])]
        steps.append(
            Step(
                id=step_id,
                name=substitute(str(raw.get("name", "")), subs),
                command=command,
                env=_env_list(raw.get("env"), subs, f"step {step_id}"),
                dir=substitute(str(raw.get("dir", "")), subs),
                timeout=_seconds(raw.get("timeout")),
            )
        )
    if not steps:
        raise ConfigError("the config has no steps")
    return steps


_SHIM = """#!{python}
# terraform stand-in of local/cloudbuild_dryrun.py (see its docstring)
import json, os, shutil, sys

argv = sys.argv[1:]
words = [a for a in argv if not a.startswith("-")]
command = words[0] if words else ""

def record(real):
    path = os.environ.get("DRYRUN_RECORD")
    if path:
        entry = {{"event": "terraform", "step": os.environ.get("DRYRUN_STEP"), "argv": argv, "real": real}}
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\\n")

if command == "fmt":
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if os.path.abspath(p) != here)
    real = shutil.which("terraform", path=path)
    record(bool(real))
    if real:
        os.execv(real, [real, *argv])
    print("[dry run] terraform fmt: stood in (no terraform binary on PATH)")
    sys.exit(0)
if command in ("init", "validate", "plan", "apply"):
    record(False)
    print("[dry run] terraform " + " ".join(argv) + ": stood in (needs the google provider and the GCS state)")
    sys.exit(0)
if command == "output" and "-json" in argv:
    record(False)
    outputs = os.environ.get("DRYRUN_TF_OUTPUTS")
    if not outputs:
        print("[dry run] terraform output: no --terraform-outputs given", file=sys.stderr)
        sys.exit(1)
    with open(outputs, encoding="utf-8") as f:
        sys.stdout.write(f.read())
    sys.exit(0)
record(False)
print("[dry run] terraform " + " ".join(argv) + ": no stand-in for this command", file=sys.stderr)
sys.exit(2)
"""


@dataclass
class Runner:
    workspace: Path
    record: Path | None = None
    stand_ins: set[str] = field(default_factory=set)
    terraform: str = "stand-in"
    terraform_outputs: Path | None = None
    out: Any = sys.stdout

    def log(self, **entry: Any) -> None:
        if self.record is not None:
            with self.record.open("a", encoding="utf-8") as f:
                f.write(json.dumps(entry) + "\n")

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def base_env(self, options_env: Mapping[str, str], shim_dir: Path | None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in _SCRUB}
        if shim_dir is not None:
            env["PATH"] = f"{shim_dir}{os.pathsep}{env.get('PATH', '')}"
        if self.record is not None:
            env["DRYRUN_RECORD"] = str(self.record)
        if self.terraform_outputs is not None:
            env["DRYRUN_TF_OUTPUTS"] = str(self.terraform_outputs)
        return {**env, **options_env}

    def run(self, config: Mapping[str, Any], subs: Mapping[str, str]) -> int:
        steps = load_steps(config, subs)
        unknown = self.stand_ins - {s.id for s in steps}
        if unknown:
            raise ConfigError(f"--stand-in names no step: {', '.join(sorted(unknown))}")
        options_env = _env_list((config.get("options") or {}).get("env"), subs, "options.env")
        with tempfile.TemporaryDirectory(prefix="cloudbuild-dryrun-") as tmp:
            shim_dir = None
            if self.terraform == "stand-in":
                shim_dir = Path(tmp)
                shim = shim_dir / "terraform"
                shim.write_text(_SHIM.format(python=sys.executable))
                shim.chmod(0o755)
            env = self.base_env(options_env, shim_dir)
            for done, step in enumerate(steps):
                rc = self.run_step(step, env)
                if rc != 0:
                    rest = [s.id for s in steps[done + 1 :]]
                    self.say(f"dry run: FAILED at step {step.id} (exit {rc}); not run: {', '.join(rest) or 'none'}")
                    self.log(event="build_end", ok=False, failed=step.id, not_run=rest)
                    return 1
        self.say(f"dry run: PASSED ({len(steps)} steps)")
        self.log(event="build_end", ok=True)
        return 0

    def run_step(self, step: Step, env: Mapping[str, str]) -> int:
        self.say(f"== step {step.id} [{step.name}]: {' '.join(step.command)[:200]}")
        self.log(event="step_start", step=step.id)
        if step.id in self.stand_ins:
            self.say(f"-- step {step.id}: stood in (reached, not run)")
            self.log(event="stand_in", step=step.id)
            self.log(event="step_end", step=step.id, rc=0, seconds=0.0)
            return 0
        started = time.monotonic()
        try:
            result = subprocess.run(
                step.command,
                cwd=self.workspace / step.dir,
                env={**env, **step.env, "DRYRUN_STEP": step.id},
                stdout=self.out if self.out is not sys.stdout else None,
                stderr=subprocess.STDOUT if self.out is not sys.stdout else None,
                timeout=step.timeout,
                check=False,
            )
            rc = result.returncode
        except subprocess.TimeoutExpired:
            self.say(f"-- step {step.id}: timed out after {step.timeout} s")
            rc = 124
        except FileNotFoundError as exc:
            self.say(f"-- step {step.id}: {exc}")
            rc = 127
        seconds = round(time.monotonic() - started, 1)
        self.say(f"-- step {step.id}: {'ok' if rc == 0 else f'exit {rc}'} ({seconds} s)")
        self.log(event="step_end", step=step.id, rc=rc, seconds=seconds)
        return rc


def _pair(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=ROOT / "cloudbuild.yaml")
    parser.add_argument("--workspace", type=Path, default=ROOT, help="the checkout the steps run in")
    parser.add_argument("-s", "--substitution", type=_pair, action="append", default=[], help="_KEY=VALUE")
    parser.add_argument("--project", default="dry-run-project", help="PROJECT_ID")
    parser.add_argument("--stand-in", action="append", default=[], metavar="STEP_ID", help="record, do not run")
    parser.add_argument("--terraform", choices=("stand-in", "real"), default="stand-in")
    parser.add_argument("--terraform-outputs", type=Path, help="what the stand-in's `output -json` prints")
    parser.add_argument("--record", type=Path, help="append JSON lines of what ran")
    args = parser.parse_args(argv)

    try:
        config = yaml.safe_load(args.config.read_text())
        subs = resolve_substitutions(config, builtins(args.workspace, args.project), dict(args.substitution))
        runner = Runner(
            workspace=args.workspace.resolve(),
            record=args.record,
            stand_ins=set(args.stand_in),
            terraform=args.terraform,
            terraform_outputs=args.terraform_outputs.resolve() if args.terraform_outputs else None,
        )
        return runner.run(config, subs)
    except ConfigError as exc:
        print(f"dry run: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
