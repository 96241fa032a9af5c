"""Cloud Tasks' retry schedule, as its ``RetryConfig`` documents it (pure functions).

From https://cloud.google.com/tasks/docs/reference/rpc/google.cloud.tasks.v2#retryconfig:
the interval before a retry starts at ``min_backoff``, doubles ``max_doublings`` times, then
grows linearly by ``2^max_doublings × min_backoff`` per retry, never above ``max_backoff``
("if min_backoff is 10s, max_backoff is 300s, and max_doublings is 3, then the task will
first be retried in 10s. The retry interval will double three times, and then increase
linearly by 2^3 * 10s. Finally, the task will retry at intervals of max_backoff until the
task has been attempted max_attempts times. Thus, the requests will retry at 10s, 20s, 40s,
80s, 160s, 240s, 300s, 300s, ...").

``max_attempts`` counts every attempt, the first included (-1: unlimited); with a positive
``max_retry_duration`` a task stops once that time has passed since its first attempt *and*
it has been attempted ``max_attempts`` times.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Retry:
    max_attempts: int = 100  # Cloud Tasks' defaults for a queue made without a retry config
    min_backoff: float = 0.1
    max_backoff: float = 3600.0
    max_doublings: int = 16
    max_retry_duration: float = 0.0

    def backoff(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (0: the first retry)."""
        if retry < self.max_doublings:
            interval = self.min_backoff * 2**retry
        else:
            interval = self.min_backoff * 2**self.max_doublings * (retry - self.max_doublings + 1)
        return min(interval, self.max_backoff)

    def gives_up(self, attempts: int, since_first: float) -> bool:
        """Whether a task that failed its ``attempts``-th attempt is not tried again."""
        attempts_done = self.max_attempts != -1 and attempts >= self.max_attempts
        if self.max_retry_duration <= 0:
            return attempts_done
        duration_done = since_first >= self.max_retry_duration
        return duration_done and (attempts_done or self.max_attempts == -1)

    @classmethod
    def parse(cls, spec: str) -> Retry:
        """``min_backoff=0.1,max_backoff=2,max_doublings=4,max_attempts=6,max_retry_duration=0``."""
        values: dict[str, float | int] = {}
        for part in filter(None, (p.strip() for p in spec.split(","))):
            key, _, value = part.partition("=")
            if key not in cls.__dataclass_fields__:
                raise ValueError(f"unknown retry setting {key!r}")
            values[key] = int(value) if key in ("max_attempts", "max_doublings") else float(value)
        return cls(**values)  # type: ignore[arg-type]
