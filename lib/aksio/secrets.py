"""Secrets: Secret Manager in production (read once per instance), the environment locally.

In production, terraform mounts each function's secrets as environment variables of the
same name; :func:`get_secret` reads that variable first (through
:func:`aksio.config.env_value`: one module reads the environment), and only when it is
absent asks Secret Manager for ``projects/{project}/secrets/{name}/versions/latest``, whose
answer is kept for the life of the instance.
"""

from __future__ import annotations

import threading

from aksio.config import env_value, get_config

_cache: dict[str, str] = {}
_lock = threading.Lock()


def get_secret(name: str, *, required: bool = True) -> str | None:
    """The secret's value, or None when it is not configured and not ``required``."""
    value = env_value(name) or _cache.get(name)
    if value is None and get_config().is_production:
        value = _from_secret_manager(name)
        if value is not None:
            with _lock:
                _cache[name] = value
    if not value:
        if required:
            raise RuntimeError(f"secret {name} is not configured")
        return None
    return value


def _from_secret_manager(name: str) -> str | None:
    from google.api_core import exceptions
    from google.cloud import secretmanager

    client = secretmanager.SecretManagerServiceClient()
    path = f"projects/{get_config().project}/secrets/{name}/versions/latest"
    try:
        response = client.access_secret_version(request={"name": path})
    except exceptions.NotFound:
        return None
    return response.payload.data.decode("utf-8")
