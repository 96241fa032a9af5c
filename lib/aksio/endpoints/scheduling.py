"""scheduling: the signed-in user's own FSRS parameters (fitted from their reviews)."""

from __future__ import annotations

from aksio import firestore as fs
from aksio import lazy
from aksio.clients import firestore_client
from aksio.http import Api, Ctx, Result
from aksio.study import tuning

models = lazy.models("aksio.study.tuning_api")

api = Api("scheduling", summary="The user's own scheduling parameters: see, fit, reset")


@api.get("/", response=models.Scheduling)
def get(ctx: Ctx) -> tuning.Json:
    """The parameters in use (null: FSRS's defaults), the last fit and a suggested retention."""
    return tuning.get(firestore_client(), ctx.uid)


@api.post("/optimize", response=models.Scheduling, status=202, errors=(409,))
def optimize(ctx: Ctx) -> Result:
    """Fit parameters to the user's reviews (a job; 409 below the minimum number of reviews).
    They are adopted only if they predict the latest reviews better than the current ones."""
    return Result(tuning.request_fit(firestore_client(), ctx.uid, fs.utcnow()), status=202)


@api.delete("/parameters", response=models.Scheduling)
def reset(ctx: Ctx) -> tuning.Json:
    """Go back to FSRS's default parameters."""
    return tuning.reset(firestore_client(), ctx.uid)
