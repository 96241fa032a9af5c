"""lib's enqueue against the stack's Cloud Tasks emulator: a step's task name is taken once."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import need_env

pytestmark = pytest.mark.stack


def test_enqueuing_the_same_step_twice_makes_one_task() -> None:
    need_env("CLOUD_TASKS_EMULATOR_HOST", "GATEWAY_URL")
    from aksio import tasks

    uid, job_id = "u" + uuid.uuid4().hex[:20], uuid.uuid4().hex[:20]
    first = tasks.enqueue_step(uid, job_id, 0)
    second = tasks.enqueue_step(uid, job_id, 0)  # the emulator answers ALREADY_EXISTS, as Cloud Tasks
    print(f"enqueue_step twice -> {first}, {second}")
    assert (first, second) == (True, False)
