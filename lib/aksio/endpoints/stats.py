"""stats: reviews per day, true retention, streak, cards by state, 30-day due forecast."""

from __future__ import annotations

from aksio.clients import firestore_client
from aksio.http import Api, Ctx
from aksio.study import api as models
from aksio.study import reports

api = Api("stats", summary="Study statistics of the signed-in user")


@api.get("/", query=models.StatsQuery, response=models.Stats, errors=(400,))
def stats(ctx: Ctx) -> models.Stats:
    """Statistics over the last ``days`` study days (in the user's time zone)."""
    return reports.stats(firestore_client(), ctx.uid, ctx.query)
