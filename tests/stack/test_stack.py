"""local/stack as a user runs it: real components, on free ports, in a private .local."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import requests
import stack

from tests.stack.conftest import (
    FIREBASE,
    LOOPBACK,
    PYTHON,
    STACK,
    listening_addresses,
    need,
    pid_alive,
    run_stack,
    wait_until,
)


def processes_mentioning(text: str) -> list[int]:
    """Live processes whose command line contains ``text`` (our private paths make this exact)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline and pid_alive(int(entry.name)):
            found.append(int(entry.name))
    return found


def test_a_taken_port_is_reported_before_anything_starts(stack_env: dict[str, str], tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        stack_env["AKSIO_STORAGE_PORT"] = str(port)
        started = time.monotonic()
        result = run_stack(["exec", "--free-ports", "--only", "stripe,storage", "--", "true"], stack_env, timeout=30)

    assert result.returncode == 1
    assert "storage failed to start" in result.stderr
    assert f"port {port}" in result.stderr
    assert "AKSIO_STORAGE_PORT" in result.stderr
    assert time.monotonic() - started < 10
    assert not (tmp_path / "local" / "logs").exists()  # nothing was started


def test_a_component_that_crashes_is_named_with_its_log_and_the_rest_is_stopped(
    stack_env: dict[str, str], tmp_path: Path
) -> None:
    data = tmp_path / "local" / "data"
    data.mkdir(parents=True)
    (data / "storage").write_text("not a directory")  # the storage emulator cannot create its store

    result = run_stack(["run", "--free-ports", "--only", "stripe,storage"], stack_env, timeout=60)

    assert result.returncode == 1
    assert "storage failed to start: exited with code" in result.stderr
    assert "FileExistsError" in result.stderr  # the tail of its log
    assert processes_mentioning(str(tmp_path)) == []  # stripe, started beside it, was stopped too


def test_a_component_that_is_never_ready_is_named_and_killed(stack_env: dict[str, str], tmp_path: Path) -> None:
    # A "Python" that never says it listens, and ignores SIGTERM (the Tasks emulator runs with it).
    fake = tmp_path / "fake-venv" / "bin" / "python"
    fake.parent.mkdir(parents=True)
    fake.write_text("#!/bin/sh\ntrap '' TERM\nwhile :; do sleep 0.1; done\n")
    fake.chmod(0o755)
    stack_env.update(AKSIO_PYTHON=str(fake), AKSIO_START_TIMEOUT="1")
    started = time.monotonic()
    result = run_stack(["exec", "--free-ports", "--only", "tasks,stripe", "--", "true"], stack_env, timeout=60)

    assert result.returncode == 1
    assert "tasks failed to start: not ready after 1 s" in result.stderr
    assert "tasks did not stop in time; killing it" in result.stderr
    assert time.monotonic() - started < 30
    assert processes_mentioning(str(tmp_path)) == []


def test_a_missing_install_is_named(stack_env: dict[str, str], tmp_path: Path) -> None:
    stack_env["AKSIO_PYTHON"] = str(tmp_path / "no-such-venv" / "bin" / "python")
    result = run_stack(["exec", "--free-ports", "--only", "tasks", "--", "true"], stack_env, timeout=30)

    assert result.returncode == 1
    assert "tasks failed to start" in result.stderr
    assert "local/install.sh" in result.stderr


def test_exec_runs_the_command_in_the_stack_environment_and_returns_its_code(
    stack_env: dict[str, str], tmp_path: Path
) -> None:
    seen = tmp_path / "seen.json"
    script = (
        "import json, os, sys, urllib.request\n"
        "env = {k: v for k, v in os.environ.items()}\n"
        "bucket = urllib.request.urlopen(env['STORAGE_EMULATOR_HOST'] + '/storage/v1/b/' + env['UPLOAD_BUCKET'])\n"
        "stripe = urllib.request.Request(env['STRIPE_API_BASE'] + '/v1/customers', data=b'email=a%40b.test',\n"
        "                                headers={'Authorization': 'Bearer sk_test_local'})\n"
        "env['_customer'] = json.load(urllib.request.urlopen(stripe))['id']\n"
        "env['_bucket_status'] = bucket.status\n"
        f"open({str(seen)!r}, 'w').write(json.dumps(env))\n"
        "sys.exit(7)\n"
    )
    result = run_stack(["exec", "--free-ports", "--only", "storage,stripe", "--", PYTHON, "-c", script], stack_env)

    assert result.returncode == 7, result.stderr
    env = json.loads(seen.read_text())
    assert env["_bucket_status"] == 200
    assert env["_customer"].startswith("cus_")
    assert env["STORAGE_EMULATOR_HOST"].startswith("http://127.0.0.1:")
    assert env["UPLOAD_BUCKET"] == "aksio-uploads"
    assert env["GOOGLE_CLOUD_PROJECT"] == env["GCLOUD_PROJECT"] == "demo-aksio"
    assert "AKSIO_ENV" not in env  # production is decided by the project, not a flag
    assert len(env["TASKS_AUTH_SECRET"]) >= 32
    assert env["AKSIO_STACK_COMPONENTS"] == "storage,stripe"
    assert "AKSIO_STACK" not in env  # only part of the stack runs
    assert "FIRESTORE_EMULATOR_HOST" not in env
    assert processes_mentioning(str(tmp_path)) == []
    ports = [int(env["STORAGE_EMULATOR_HOST"].rsplit(":", 1)[1]), int(env["STRIPE_API_BASE"].rsplit(":", 1)[1])]
    assert all(not listening_addresses(p) for p in ports)


def test_exec_in_memory_starts_empty_each_time(stack_env: dict[str, str]) -> None:
    script = (
        "import json, os, urllib.request\n"
        "request = urllib.request.Request(os.environ['STRIPE_API_BASE'] + '/v1/customers',\n"
        "                                 headers={'Authorization': 'Bearer sk_test_local'})\n"
        "count = len(json.load(urllib.request.urlopen(request))['data'])\n"
        "urllib.request.urlopen(urllib.request.Request(request.full_url, data=b'email=x%40y.test',\n"
        "                       headers=request.headers))\n"
        "raise SystemExit(count)\n"
    )
    for _ in range(2):
        result = run_stack(["exec", "--free-ports", "--only", "stripe", "--", PYTHON, "-c", script], stack_env)
        assert result.returncode == 0, result.stderr


def start_run(args: list[str], env: dict[str, str], local: Path) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    """``local/stack run`` in the background, once ready (it writes stack.json then), and its state."""
    process = subprocess.Popen(
        [PYTHON, str(STACK), "run", "--free-ports", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    state_file = local / "stack.json"

    def ready() -> bool:
        try:
            return bool(json.loads(state_file.read_text())["ready"])
        except (OSError, ValueError):
            return False

    try:
        wait_until(lambda: ready() or process.poll() is not None, 150, "the stack to be ready")
    except AssertionError:
        process.kill()
        raise
    assert process.poll() is None, process.communicate()
    return process, json.loads(state_file.read_text())


def test_run_prints_urls_and_stops_everything_on_sigterm(stack_env: dict[str, str], tmp_path: Path) -> None:
    local = tmp_path / "local"
    process, state = start_run(["--only", "storage,tasks,stripe,bridge"], stack_env, local)
    components = state["components"]
    assert set(components) == {"storage", "tasks", "stripe", "bridge"}
    for name in ("storage", "tasks", "stripe"):
        addresses = listening_addresses(components[name]["port"])
        assert addresses, name
        assert addresses <= LOOPBACK, f"{name} listens beyond 127.0.0.1: {addresses}"

    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)

    assert process.returncode == 0, err
    assert "Aksio local stack is running" in out
    assert f"export STORAGE_EMULATOR_HOST=http://127.0.0.1:{components['storage']['port']}" in out
    assert "CLOUD_TASKS_EMULATOR_HOST=" in out
    assert all(not pid_alive(c["pid"]) for c in components.values())
    assert processes_mentioning(str(tmp_path)) == []
    assert not (local / "stack.json").exists()
    for name in components:
        assert (local / "logs" / f"{name}.log").exists()


def test_components_do_not_outlive_a_killed_stack(stack_env: dict[str, str], tmp_path: Path) -> None:
    process, state = start_run(["--only", "storage,stripe"], stack_env, tmp_path / "local")
    process.kill()  # SIGKILL: the stack cannot clean up; the kernel tells the children
    process.communicate(timeout=10)
    pids = [c["pid"] for c in state["components"].values()]
    wait_until(lambda: not any(pid_alive(p) for p in pids), 15, "the components to exit")


def test_run_keeps_data_across_restarts(stack_env: dict[str, str], tmp_path: Path) -> None:
    local = tmp_path / "local"
    script = (
        "import json, os, sys, urllib.request\n"
        "request = urllib.request.Request(os.environ['STRIPE_API_BASE'] + '/v1/customers', data=b'email=k%40y.test',\n"
        "                                 headers={'Authorization': 'Bearer sk_test_local'})\n"
        "urllib.request.urlopen(request)\n"
    )
    result = run_stack(["exec", "--persist", "--free-ports", "--only", "stripe", "--", PYTHON, "-c", script], stack_env)
    assert result.returncode == 0, result.stderr
    process, state = start_run(["--only", "stripe"], stack_env, local)
    try:
        base = state["env"]["STRIPE_API_BASE"]
        customers = requests.get(f"{base}/v1/customers", auth=("sk_test_local", ""), timeout=5).json()["data"]
        assert [c["email"] for c in customers] == ["k@y.test"]
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)
    assert process.returncode == 0


def test_a_second_stack_in_the_same_directory_keeps_out_of_the_first_ones_way(
    stack_env: dict[str, str], tmp_path: Path
) -> None:
    local = tmp_path / "local"
    process, state = start_run(["--only", "stripe"], stack_env, local)
    try:
        log_before = (local / "logs" / "stripe.log").read_text()
        beside = run_stack(["exec", "--free-ports", "--only", "stripe", "--", "true"], stack_env)
        assert beside.returncode == 0, beside.stderr
        assert f"another stack (pid {state['pid']}) uses" in beside.stderr
        assert (local / "logs" / "stripe.log").read_text().startswith(log_before.splitlines()[0])
        assert json.loads((local / "stack.json").read_text())["pid"] == state["pid"]

        persistent = run_stack(["run", "--free-ports", "--only", "stripe"], stack_env)
        assert persistent.returncode == 1
        assert f"another stack (pid {state['pid']}) is using" in persistent.stderr
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    assert process.returncode == 0


@pytest.mark.timeout(240)
def test_the_whole_stack_serves_health_and_bridges_uploads(stack_env: dict[str, str], tmp_path: Path) -> None:
    """What `make run` gives a newcomer: every component, a signed-in call through the gateway."""
    need(FIREBASE, "firebase-tools (local/node_modules)")
    script = """
import os, time, requests
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage
gateway, auth = os.environ["GATEWAY_URL"], os.environ["FIREBASE_AUTH_EMULATOR_HOST"]
assert os.environ["AKSIO_STACK"] == "1"
assert requests.get(gateway + "/health", timeout=10).status_code == 200
user = requests.post(
    f"http://{auth}/identitytoolkit.googleapis.com/v1/accounts:signUp?key=any",
    json={"email": "ada@example.test", "password": "secret123", "returnSecureToken": True}, timeout=10,
).json()
answer = requests.get(gateway + "/health", headers={"Authorization": "Bearer " + user["idToken"]}, timeout=10)
assert answer.status_code == 200, answer.text
bucket = storage.Client(project="demo-aksio", credentials=AnonymousCredentials()).bucket(os.environ["UPLOAD_BUCKET"])
bucket.blob("users/" + user["localId"] + "/documents/d1/notes.txt").upload_from_string(b"hello")
log = os.path.join(os.environ["AKSIO_LOCAL_DIR"], "logs", "gateway.log")
deadline = time.monotonic() + 20
while "POST /process-upload" not in open(log).read():
    assert time.monotonic() < deadline, "the bridge never posted to /process-upload"
    time.sleep(0.2)
"""
    started = time.monotonic()
    result = run_stack(["exec", "--free-ports", "--", PYTHON, "-c", script], stack_env, timeout=200)
    assert result.returncode == 0, result.stderr[-3000:]
    for name in ("firestore", "auth", "storage", "tasks", "stripe", "gateway", "bridge"):
        assert f"stack: {name} ready" in result.stderr
    assert time.monotonic() - started < 120
    assert processes_mentioning(str(tmp_path)) == []


def test_an_unknown_component_is_refused(stack_env: dict[str, str]) -> None:
    result = run_stack(["exec", "--only", "storage,redis", "--", "true"], stack_env, timeout=30)
    assert result.returncode != 0
    assert "redis" in result.stderr


def test_every_port_variable_is_documented() -> None:
    doc = stack.__doc__ or ""
    readme = (STACK.parent / "README.md").read_text()
    for name, port in stack.DEFAULT_PORTS.items():
        assert stack.port_var(name) in doc
        assert stack.port_var(name) in readme
        assert str(port) in readme
