"""refit-fsrs: the daily Cloud Scheduler job that enqueues a fit (optimize-fsrs) for each user
whose reviews grew since their last fit (reviews mark them ``fsrsRefitDue``).

Only the scheduler may call it. Not part of the public API document (``task_api``).
"""

from __future__ import annotations

from typing import Any

from aksio import tasks
from aksio.clients import firestore_client
from aksio.http import Api, Ctx
from aksio.study import queries, tuning

task_api = Api("refit-fsrs", summary="Enqueue the fits that are due (Cloud Scheduler only)", auth=False)
REFIT_BATCH = 500


@task_api.post("/", errors=(401, 403, 503))
def refit(ctx: Ctx) -> Any:
    """Enqueue a fit for each user marked ``fsrsRefitDue`` (at most a batch per run)."""
    tasks.verify_scheduled_caller(ctx.request, "refit-fsrs")
    db = firestore_client()
    enqueued = 0
    for uid in queries.users_due_refit(db, REFIT_BATCH):
        enqueued += tuning.enqueue(uid, tuning.total_reviews(queries.read_user(db, uid)))
    return {"enqueued": enqueued}
