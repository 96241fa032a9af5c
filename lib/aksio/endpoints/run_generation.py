"""run-generation: the Cloud Tasks target that processes one step of a generation job.

Only the queue may call it (:func:`aksio.tasks.verify_task_caller`). 200 when the step is
done, was already done (a duplicate delivery), or failed for good (the job records why);
503 for a transient failure, so Cloud Tasks retries the step with backoff. Not part of the
public API document (it is named ``task_api``, not ``api``, so :mod:`aksio.openapi` skips it).
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, ValidationError

from aksio import errors, log, tasks
from aksio.clients import firestore_client
from aksio.generation import steps
from aksio.http import Api, Ctx
from aksio.schema import ApiModel, RequestModel

task_api = Api("run-generation", summary="One step of a generation job (Cloud Tasks only)", auth=False)
_log = log.get_logger("aksio.run_generation")


class StepTask(RequestModel):
    uid: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,128}$")]
    job_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
    step: Annotated[int, Field(ge=0, le=100_000)]
    kind: Literal["cards", "quiz"] = "cards"  # quiz: a step of a quiz made from documents


class StepDone(ApiModel):
    job_id: str
    step: int
    result: str


def _body(ctx: Ctx) -> StepTask:
    try:
        return StepTask.model_validate(json.loads(ctx.request.get_data() or b"null"))
    except (ValueError, ValidationError):
        raise errors.Invalid("The task body is not a generation step.", code="invalid_task") from None


@task_api.post("/", response=StepDone, errors=(400, 401, 403, 503))
def run(ctx: Ctx) -> Any:
    """Process one step: generate, validate, dedupe, write cards, enqueue the next step."""
    tasks.verify_task_caller(ctx.request)
    task = _body(ctx)
    attempt = int(ctx.request.headers.get("X-CloudTasks-TaskRetryCount") or 0)
    try:
        if task.kind == "quiz":
            from aksio.quizzes import jobs as quiz_jobs

            result = quiz_jobs.run_step(firestore_client(), task.uid, task.job_id, task.step, attempt=attempt)
        else:
            result = steps.run_step(firestore_client(), task.uid, task.job_id, task.step, attempt=attempt)
    except steps.StepRetry as exc:
        _log.warning("step will be retried: %s", exc.code, extra={"jobId": task.job_id, "step": task.step})
        raise errors.Unavailable(
            f"Step {task.step} failed for now: {exc.message}", code=exc.code, retry_after=10
        ) from exc
    _log.info("step %s: %s", task.step, result, extra={"jobId": task.job_id, "attempt": attempt})
    return StepDone(job_id=task.job_id, step=task.step, result=result)
