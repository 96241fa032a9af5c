"""stats: reviews per day, true retention, streak, cards by state, 30-day due forecast."""

from __future__ import annotations

from aksio import lazy, params
from aksio.clients import firestore_client
from aksio.http import Api, Ctx
from aksio.study import reports
from aksio.study.service import Json

# models are imported when a request needs one (cold start: reads need none)
models = lazy.models("aksio.study.api")

api = Api("stats", summary="Study statistics of the signed-in user")


@api.get("/", query=models.StatsQuery, fast_query=params.STATS, response=models.Stats, errors=(400, 404))
def stats(ctx: Ctx) -> Json:
    """Statistics over the last ``days`` study days (in the user's time zone)."""
    return reports.stats(firestore_client(), ctx.uid, ctx.query)
