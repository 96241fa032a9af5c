"""The Cloud Tasks emulator as the stack runs it, reached with google-cloud-tasks as lib/ does."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.stack.conftest import (
    LOOPBACK,
    STACK,
    TASKS_PYTHON,
    Receiver,
    free_port,
    listening_addresses,
    need,
    wait_until,
)

QUEUE = "projects/demo-aksio/locations/us-central1/queues/ai-jobs"
MAX_RETRIES = 2


@dataclass
class TasksEmulator:
    host: str  # 127.0.0.1:port, as CLOUD_TASKS_EMULATOR_HOST
    port: int
    client: Any  # tasks_v2.CloudTasksClient


@pytest.fixture
def tasks_emulator(tmp_path: Path) -> Iterator[TasksEmulator]:
    need(TASKS_PYTHON, "the Cloud Tasks emulator's virtualenv")
    import grpc
    from google.cloud import tasks_v2
    from google.cloud.tasks_v2.services.cloud_tasks.transports import CloudTasksGrpcTransport

    port = free_port()
    log_path = tmp_path / "tasks.log"
    log = log_path.open("wb")
    argv = [str(TASKS_PYTHON), "-W", "ignore::FutureWarning", str(STACK), "serve-tasks", "--port", str(port)]
    process = subprocess.Popen(
        [*argv, "--queue", QUEUE, "--max-retries", str(MAX_RETRIES)], stdout=log, stderr=subprocess.STDOUT
    )
    try:
        wait_until(lambda: "listening" in log_path.read_text() or process.poll() is not None, 30, "the emulator")
        assert process.poll() is None, log_path.read_text()
        host = f"127.0.0.1:{port}"
        client = tasks_v2.CloudTasksClient(transport=CloudTasksGrpcTransport(channel=grpc.insecure_channel(host)))
        yield TasksEmulator(host, port, client)
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def http_task(url: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    return {"http_request": {"http_method": "POST", "url": url, "headers": headers, "body": body}}


def test_the_queue_exists_and_the_emulator_listens_on_loopback_only(tasks_emulator: TasksEmulator) -> None:
    assert tasks_emulator.client.get_queue(name=QUEUE).name == QUEUE
    addresses = listening_addresses(tasks_emulator.port)
    assert addresses
    assert addresses <= LOOPBACK


def test_a_task_is_delivered_as_an_http_post(tasks_emulator: TasksEmulator, receiver: Receiver) -> None:
    headers = {"Content-Type": "application/json", "X-Aksio-Tasks-Secret": "s3cret"}
    task = tasks_emulator.client.create_task(
        parent=QUEUE, task=http_task(f"{receiver.url}/run-generation", b'{"jobId": "j1"}', headers)
    )

    wait_until(lambda: len(receiver.requests) >= 1, 10, "the task's POST")
    [request] = receiver.requests
    assert request.method == "POST"
    assert request.path == "/run-generation"
    assert request.body == b'{"jobId": "j1"}'
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-aksio-tasks-secret"] == "s3cret"
    assert request.headers["x-cloudtasks-taskname"] == task.name.rsplit("/", 1)[-1]
    assert request.headers["x-cloudtasks-taskretrycount"] == "0"


def test_a_failing_task_is_retried_a_bounded_number_of_times(tasks_emulator: TasksEmulator, receiver: Receiver) -> None:
    receiver.script = [500] * 10
    tasks_emulator.client.create_task(parent=QUEUE, task=http_task(f"{receiver.url}/run-generation", b"{}", {}))

    wait_until(lambda: len(receiver.requests) >= 1 + MAX_RETRIES, 10, "the retries")
    time.sleep(1.0)  # the emulator retries every ~0.1 s: more would have come by now
    assert receiver.statuses() == [500] * (1 + MAX_RETRIES)
    assert [r.headers["x-cloudtasks-taskretrycount"] for r in receiver.requests] == ["0", "1", "2"]
