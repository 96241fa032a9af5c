"""Clients of Google services, created once per instance and reused by every request.

Each one honours its emulator variable: ``FIRESTORE_EMULATOR_HOST`` and
``STORAGE_EMULATOR_HOST`` are read by the client libraries themselves;
``CLOUD_TASKS_EMULATOR_HOST`` is ours (the Tasks library has no emulator switch), and
makes the Tasks client talk gRPC over an insecure channel to that host.
Imports are local so a function only pays for the clients it uses.
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from typing import TYPE_CHECKING

from aksio.config import get_config

if TYPE_CHECKING:  # pragma: no cover
    from google.cloud import firestore, storage, tasks_v2  # type: ignore[attr-defined]

_lock = threading.Lock()


@lru_cache(maxsize=1)
def firestore_client() -> firestore.Client:
    from google.cloud import firestore

    cfg = get_config()
    with _lock:
        return firestore.Client(project=cfg.project, database=cfg.firestore_database)


@lru_cache(maxsize=1)
def storage_client() -> storage.Client:
    from google.cloud import storage  # type: ignore[attr-defined]

    cfg = get_config()
    with _lock:
        if os.environ.get("STORAGE_EMULATOR_HOST"):
            from google.auth.credentials import AnonymousCredentials

            return storage.Client(project=cfg.project, credentials=AnonymousCredentials())  # type: ignore[no-untyped-call]
        return storage.Client(project=cfg.project)


@lru_cache(maxsize=1)
def tasks_client() -> tasks_v2.CloudTasksClient:
    from google.cloud import tasks_v2

    with _lock:
        host = os.environ.get("CLOUD_TASKS_EMULATOR_HOST")
        if host:
            import grpc
            from google.cloud.tasks_v2.services.cloud_tasks.transports import CloudTasksGrpcTransport

            transport = CloudTasksGrpcTransport(channel=grpc.insecure_channel(host))
            return tasks_v2.CloudTasksClient(transport=transport)
        return tasks_v2.CloudTasksClient()


def reset_clients() -> None:
    """Forget the cached clients and config (tests that change the environment use this)."""
    firestore_client.cache_clear()
    storage_client.cache_clear()
    tasks_client.cache_clear()
    get_config.cache_clear()
