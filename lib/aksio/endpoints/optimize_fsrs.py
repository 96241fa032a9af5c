"""optimize-fsrs: the Cloud Tasks target that fits one user's FSRS parameters.

Only the queue may call it. 200 when the fit ran (adopted or not);
503 on a transient failure, so Cloud Tasks retries (a rerun computes and writes the same).
Not part of the public API document (``task_api``).
"""

from __future__ import annotations

import json
import re
from typing import Any

from aksio import errors, log, tasks
from aksio import firestore as fs
from aksio.clients import firestore_client
from aksio.http import Api, Ctx
from aksio.study import tuning

task_api = Api("optimize-fsrs", summary="Fit one user's FSRS parameters (Cloud Tasks only)", auth=False)
_log = log.get_logger("aksio.optimize_fsrs")
UID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


@task_api.post("/", errors=(400, 401, 403, 503))
def optimize(ctx: Ctx) -> Any:
    """Fit, compare with the current parameters on the latest reviews, adopt if better."""
    tasks.verify_function_caller(ctx.request, tuning.OPTIMIZER_FUNCTION)
    try:
        body = json.loads(ctx.request.get_data() or b"null")
    except ValueError:
        body = None
    uid = body.get("uid") if isinstance(body, dict) else None
    if not isinstance(uid, str) or not UID.match(uid):
        raise errors.Invalid("The task body is not {uid}.", code="invalid_task")
    outcome = tuning.run_fit(firestore_client(), uid, fs.utcnow())
    _log.info("fsrs fit: %s", outcome, extra={"event": "fsrs_fit", "outcome": outcome})
    return {"outcome": outcome}
