"""The stack's Cloud Tasks emulator (local/tasks_emulator), reached with google-cloud-tasks as lib/ does:
delivery with Cloud Tasks' headers and an OIDC token checked against the certificates it serves,
task names deduplicated, and the queue's retry configuration honoured."""

from __future__ import annotations

import itertools
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.stack.conftest import LOOPBACK, PYTHON, REPO, Receiver, free_port, listening_addresses, wait_until

QUEUE = "projects/demo-aksio/locations/us-central1/queues/ai-jobs"
ACCOUNT = "tasks-invoker@demo-aksio.iam.gserviceaccount.com"
# Short backoffs so the test takes seconds: 0.3 s doubling twice, then +1.2 s a retry, at most 2 s.
RETRY = "min_backoff=0.3,max_backoff=2,max_doublings=2,max_attempts=6"
EXPECTED_WAITS = [0.3, 0.6, 1.2, 2.0, 2.0]  # 0.3·2^n for n < 2, then 0.3·2²·(n−1), capped at 2


@dataclass
class TasksEmulator:
    host: str  # 127.0.0.1:port, as CLOUD_TASKS_EMULATOR_HOST
    port: int
    certs_url: str
    client: Any  # tasks_v2.CloudTasksClient


@pytest.fixture
def tasks_emulator(tmp_path: Path) -> Iterator[TasksEmulator]:
    import grpc
    from google.cloud import tasks_v2
    from google.cloud.tasks_v2.services.cloud_tasks.transports import CloudTasksGrpcTransport

    port, certs_port = free_port(), free_port()
    log_path = tmp_path / "tasks.log"
    log = log_path.open("wb")
    argv = [PYTHON, "-m", "tasks_emulator", "--port", str(port), "--certs-port", str(certs_port)]
    process = subprocess.Popen(
        [*argv, "--queue", f"{QUEUE},{RETRY}"],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=REPO / "local",
    )
    try:
        wait_until(lambda: "listening" in log_path.read_text() or process.poll() is not None, 30, "the emulator")
        assert process.poll() is None, log_path.read_text()
        host = f"127.0.0.1:{port}"
        client = tasks_v2.CloudTasksClient(transport=CloudTasksGrpcTransport(channel=grpc.insecure_channel(host)))
        yield TasksEmulator(host, port, f"http://127.0.0.1:{certs_port}/oauth2/v1/certs", client)
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def http_task(url: str, body: bytes, headers: dict[str, str], name: str | None = None) -> dict[str, Any]:
    task: dict[str, Any] = {"http_request": {"http_method": "POST", "url": url, "headers": headers, "body": body}}
    task["http_request"]["oidc_token"] = {"service_account_email": ACCOUNT}
    if name:
        task["name"] = f"{QUEUE}/tasks/{name}"
    return task


def test_the_queue_exists_with_its_retry_config_and_the_emulator_listens_on_loopback_only(
    tasks_emulator: TasksEmulator,
) -> None:
    queue = tasks_emulator.client.get_queue(name=QUEUE)
    assert queue.name == QUEUE
    retry = queue.retry_config
    assert (retry.max_attempts, retry.max_doublings) == (6, 2)
    assert (retry.min_backoff.total_seconds(), retry.max_backoff.total_seconds()) == (0.3, 2.0)
    addresses = listening_addresses(tasks_emulator.port)
    assert addresses
    assert addresses <= LOOPBACK


def test_a_task_is_delivered_with_cloud_tasks_headers_and_a_verifiable_oidc_token(
    tasks_emulator: TasksEmulator, receiver: Receiver
) -> None:
    from google.auth import jwt

    url = f"{receiver.url}/run-generation"
    task = tasks_emulator.client.create_task(
        parent=QUEUE, task=http_task(url, b'{"jobId": "j1"}', {"Content-Type": "application/json"})
    )

    wait_until(lambda: len(receiver.requests) >= 1, 10, "the task's POST")
    [request] = receiver.requests
    assert (request.method, request.path, request.body) == ("POST", "/run-generation", b'{"jobId": "j1"}')
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"] == "Google-Cloud-Tasks"
    assert request.headers["x-cloudtasks-queuename"] == "ai-jobs"  # the queue id, as Cloud Tasks sends
    assert request.headers["x-cloudtasks-taskname"] == task.name.rsplit("/", 1)[-1]
    assert request.headers["x-cloudtasks-taskretrycount"] == "0"
    scheme, _, token = request.headers["authorization"].partition(" ")
    assert scheme == "Bearer"
    certs = requests.get(tasks_emulator.certs_url, timeout=5)
    assert "max-age=" in certs.headers["Cache-Control"]
    claims = jwt.decode(token, certs=certs.json(), audience=url)  # the audience defaults to the URL
    assert claims["iss"] == "https://accounts.google.com"
    assert (claims["email"], claims["email_verified"]) == (ACCOUNT, True)
    assert claims["exp"] - claims["iat"] == 3600
    with pytest.raises(ValueError, match="audience"):
        jwt.decode(token, certs=certs.json(), audience="https://elsewhere")


def test_the_same_task_name_twice_is_already_exists(tasks_emulator: TasksEmulator, receiver: Receiver) -> None:
    from google.api_core import exceptions as gexc

    task = http_task(f"{receiver.url}/run-generation", b"{}", {}, name="gen-abc-s0")
    tasks_emulator.client.create_task(parent=QUEUE, task=task)
    with pytest.raises(gexc.AlreadyExists):  # while it is queued
        tasks_emulator.client.create_task(parent=QUEUE, task=task)
    wait_until(lambda: len(receiver.requests) >= 1, 10, "the task's POST")
    wait_until(lambda: not tasks_emulator.client.list_tasks(parent=QUEUE).tasks, 10, "the task to be done")
    with pytest.raises(gexc.AlreadyExists):  # and after it ran (Cloud Tasks keeps the name ~1 h)
        tasks_emulator.client.create_task(parent=QUEUE, task=task)
    other = tasks_emulator.client.create_task(parent=QUEUE, task=http_task(task["http_request"]["url"], b"", {}))
    assert other.name.startswith(f"{QUEUE}/tasks/")  # an unnamed task gets a name of its own
    wait_until(lambda: len(receiver.requests) >= 2, 10, "the second task's POST")
    assert [r.headers["x-cloudtasks-taskname"] for r in receiver.requests] == ["gen-abc-s0", other.name.split("/")[-1]]


def test_a_failing_task_is_retried_with_the_queues_backoff_then_dropped(
    tasks_emulator: TasksEmulator, receiver: Receiver
) -> None:
    receiver.script = [503] * 10
    tasks_emulator.client.create_task(parent=QUEUE, task=http_task(f"{receiver.url}/run-generation", b"{}", {}))

    wait_until(lambda: len(receiver.requests) >= 6, 20, "six attempts")
    # The positive signal that no 7th attempt comes: the task is gone from the queue.
    wait_until(lambda: not tasks_emulator.client.list_tasks(parent=QUEUE).tasks, 10, "the task to be dropped")
    times = [r.at for r in receiver.requests]
    waits = [round(b - a, 3) for a, b in itertools.pairwise(times)]
    start = times[0]
    print(f"\nattempt times (s after the first): {[round(t - start, 3) for t in times]}")
    print(f"waits between attempts (s): {waits}; expected {EXPECTED_WAITS}")
    assert receiver.statuses() == [503] * 6  # max_attempts=6: the first and five retries
    assert [r.headers["x-cloudtasks-taskretrycount"] for r in receiver.requests] == ["0", "1", "2", "3", "4", "5"]
    assert [r.headers.get("x-cloudtasks-taskpreviousresponse") for r in receiver.requests][1:] == ["503"] * 5
    for wait, expected in zip(waits, EXPECTED_WAITS, strict=True):
        assert expected - 0.02 <= wait <= expected + 0.25, (waits, EXPECTED_WAITS)


def test_a_task_that_succeeds_on_a_retry_stops_there(tasks_emulator: TasksEmulator, receiver: Receiver) -> None:
    receiver.script = [500, 200]
    tasks_emulator.client.create_task(parent=QUEUE, task=http_task(f"{receiver.url}/run-generation", b"{}", {}))
    wait_until(lambda: not tasks_emulator.client.list_tasks(parent=QUEUE).tasks, 10, "the task to be done")
    assert receiver.statuses() == [500, 200]


def test_get_delete_and_a_scheduled_task(tasks_emulator: TasksEmulator, receiver: Receiver) -> None:
    from google.api_core import exceptions as gexc
    from google.protobuf import timestamp_pb2

    later = timestamp_pb2.Timestamp()
    later.FromSeconds(int(time.time()) + 3600)
    task = http_task(f"{receiver.url}/x", b"{}", {}, name="later") | {"schedule_time": later}
    created = tasks_emulator.client.create_task(parent=QUEUE, task=task)
    assert tasks_emulator.client.get_task(name=created.name).schedule_time.timestamp() == later.seconds
    tasks_emulator.client.delete_task(name=created.name)
    with pytest.raises(gexc.NotFound):
        tasks_emulator.client.get_task(name=created.name)
    with pytest.raises(gexc.AlreadyExists):  # a deleted task's name stays taken too
        tasks_emulator.client.create_task(parent=QUEUE, task=task)
    with pytest.raises(gexc.InvalidArgument):
        tasks_emulator.client.create_task(parent=QUEUE, task=http_task("ftp://x", b"", {}, name="bad"))
    with pytest.raises(gexc.NotFound):
        tasks_emulator.client.create_task(parent=QUEUE + "-nope", task=http_task(f"{receiver.url}/x", b"", {}))


def test_the_backoff_schedule_is_the_one_cloud_tasks_documents() -> None:
    from tasks_emulator.retry import Retry

    # The reference's example: min 10 s, max 300 s, 3 doublings.
    documented = Retry(min_backoff=10, max_backoff=300, max_doublings=3)
    assert [documented.backoff(n) for n in range(8)] == [10, 20, 40, 80, 160, 240, 300, 300]
    assert Retry.parse(RETRY) == Retry(max_attempts=6, min_backoff=0.3, max_backoff=2, max_doublings=2)
    limited = Retry(max_attempts=3)
    assert [limited.gives_up(n, 0) for n in (1, 2, 3)] == [False, False, True]
    both = Retry(max_attempts=3, max_retry_duration=60)  # stops once both are reached
    assert (both.gives_up(3, 30), both.gives_up(3, 61), both.gives_up(2, 61)) == (False, True, False)
    assert Retry(max_attempts=-1, max_retry_duration=60).gives_up(50, 61)
    assert not Retry(max_attempts=-1).gives_up(10_000, 1e9)
