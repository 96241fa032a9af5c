"""The API's models of a user's scheduling parameters (aksio.study.tuning)."""

from __future__ import annotations

from datetime import datetime

from aksio.schema import ApiModel


class FitMetrics(ApiModel):
    log_loss: float
    rmse: float
    items: int


class FitRun(ApiModel):
    at: datetime
    outcome: str
    reviews: int
    fitted: FitMetrics | None = None
    current: FitMetrics | None = None


class Scheduling(ApiModel):
    parameters: list[float] | None
    using_defaults: bool
    default_parameters: list[float]
    fitted_at: datetime | None = None
    last_run: FitRun | None = None
    suggested_retention: float | None = None
    reviews: int
    min_reviews: int
    queued: bool | None = None
