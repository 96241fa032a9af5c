"""Configuration from the environment, read once per instance.

Secrets never live here: see :mod:`aksio.secrets`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache


def _csv(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())


@dataclass(frozen=True)
class Config:
    env: str = "local"  # local | test | production
    project: str = "demo-aksio"
    region: str = "us-central1"
    upload_bucket: str = "aksio-uploads"
    tasks_queue: str = "ai-jobs"
    tasks_location: str = "us-central1"
    # Origins allowed to call the HTTPS functions from a browser ("*" allows any).
    cors_origins: tuple[str, ...] = field(default_factory=tuple)
    max_body_bytes: int = 1024 * 1024
    firestore_database: str = "(default)"

    @property
    def is_production(self) -> bool:
        return self.env == "production"


@lru_cache(maxsize=1)
def get_config() -> Config:
    env = os.environ
    project = env.get("GOOGLE_CLOUD_PROJECT") or env.get("GCLOUD_PROJECT") or "demo-aksio"
    return Config(
        env=env.get("AKSIO_ENV", "local"),
        project=project,
        region=env.get("FUNCTION_REGION", env.get("REGION", "us-central1")),
        upload_bucket=env.get("UPLOAD_BUCKET", "aksio-uploads"),
        tasks_queue=env.get("TASKS_QUEUE", "ai-jobs"),
        tasks_location=env.get("TASKS_LOCATION", "us-central1"),
        cors_origins=_csv(env.get("CORS_ORIGINS", "http://localhost:5173,http://127.0.0.1:5173")),
        max_body_bytes=int(env.get("MAX_BODY_BYTES", str(1024 * 1024))),
        firestore_database=env.get("FIRESTORE_DATABASE", "(default)"),
    )
