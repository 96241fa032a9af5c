"""send-reminders: the Cloud Scheduler target that reminds the users whose reminder time
has come (see :mod:`aksio.reminders.run`).

Only the scheduler may call it (:func:`aksio.tasks.verify_scheduler_caller`). It answers 200
with what the run did, also when it stopped before its deadline with users left (they are
the next run's). Locally, the body's ``scheduledTime`` (what the stack's scheduler sends)
is the run's clock, so tests run a slot at a chosen instant; in production the clock is the
real one. Not part of the public API document (``task_api``, not ``api``).
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any

from aksio import deadlines, errors, tasks
from aksio import firestore as fs
from aksio.clients import firestore_client
from aksio.config import get_config
from aksio.http import Api, Ctx

task_api = Api("send-reminders", summary="Send the study reminders that are due (Cloud Scheduler only)", auth=False)
RUN_SECONDS = 240.0  # the function's timeout is 300 s: stop in time, the rest is the next run's


def _clock(ctx: Ctx) -> datetime:
    now = fs.utcnow()
    if get_config().is_production:
        return now
    try:
        body = json.loads(ctx.request.get_data() or b"{}")
        scheduled = body.get("scheduledTime") if isinstance(body, dict) else None
        return datetime.fromisoformat(str(scheduled).replace("Z", "+00:00")) if scheduled else now
    except ValueError:
        raise errors.Invalid("scheduledTime is not an RFC 3339 time.", code="invalid_schedule_time") from None


@task_api.post("/", errors=(400, 401, 403, 503))
def send(ctx: Ctx) -> dict[str, Any]:
    """Remind every user whose reminder time has come (at most once per study day)."""
    tasks.verify_scheduler_caller(ctx.request)
    from aksio.reminders.run import run

    now = _clock(ctx)
    # Each wait on Firestore is bounded as a request's is (a hung database answers 503 in about
    # 10 s); the run as a whole stops before RUN_SECONDS.
    with deadlines.budget(deadlines.REQUEST_BUDGET_S, renew=True):
        report = run(firestore_client(), now, stop_at=time.monotonic() + RUN_SECONDS)
    return report.as_dict() | {"at": now.isoformat().replace("+00:00", "Z")}
