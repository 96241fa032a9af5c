"""account-jobs: the Cloud Tasks target that runs one step of an account job (a deletion
step, an export, an import).

Only the queue may call it (:func:`aksio.tasks.verify_function_caller`). 200 when the step is
done, was done before (a duplicate delivery) or has nothing to do; 503 for a transient failure
or a step that arrived early, so Cloud Tasks retries it with backoff. Not part of the public
API document (it is named ``task_api``).
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, ValidationError

from aksio import errors, log, tasks
from aksio.clients import firestore_client
from aksio.http import Api, Ctx
from aksio.schema import ApiModel, RequestModel

task_api = Api("account-jobs", summary="One step of an account job (Cloud Tasks only)", auth=False)
_log = log.get_logger("aksio.account_jobs")


class JobTask(RequestModel):
    kind: Literal["delete", "export", "import"]
    uid: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,128}$")]
    step: Annotated[int, Field(ge=0, le=100)] = 0
    export_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")] | None = None
    import_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")] | None = None


class JobDone(ApiModel):
    kind: str
    result: str


def _body(ctx: Ctx) -> JobTask:
    try:
        return JobTask.model_validate(json.loads(ctx.request.get_data() or b"null"))
    except (ValueError, ValidationError):
        raise errors.Invalid("The task body is not an account job.", code="invalid_task") from None


@task_api.post("/", response=JobDone, errors=(400, 401, 403, 503))
def run(ctx: Ctx) -> Any:
    """Run one step of an account job."""
    tasks.verify_function_caller(ctx.request, "account-jobs")
    task = _body(ctx)
    db = firestore_client()
    if task.kind == "delete":
        from aksio.account import deletion

        try:
            result = deletion.run_step(db, task.uid, task.step)
        except deletion.StepOutOfOrder as exc:
            raise errors.Unavailable(str(exc), code="step_out_of_order", retry_after=5) from None
    elif task.kind == "import":
        from aksio.account import imports

        if task.import_id is None:
            raise errors.Invalid("An import task names its import.", code="invalid_task")
        result = imports.run(db, task.uid, task.import_id)
    else:
        from aksio.account import export

        if task.export_id is None:
            raise errors.Invalid("An export task names its export.", code="invalid_task")
        result = export.run(db, task.uid, task.export_id)
    _log.info("account job %s: %s", task.kind, result, extra={"step": task.step})
    return JobDone(kind=task.kind, result=result)
