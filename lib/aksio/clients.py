"""Clients of Google services, created once per instance and reused by every request.

Each one honours its emulator variable: ``FIRESTORE_EMULATOR_HOST`` and
``STORAGE_EMULATOR_HOST`` are read by the client libraries themselves;
``CLOUD_TASKS_EMULATOR_HOST`` is ours (the Tasks library has no emulator switch), and
makes the Tasks client talk gRPC over an insecure channel to that host.
Imports are local so a function only pays for the clients it uses.

Every Firestore RPC goes through :class:`aksio.deadlines.Interceptor` (the request's time
budget, a 503 instead of a hang): :func:`firestore_client` builds a ``firestore.Client``
whose generated transport wraps the channel the library makes (insecure to the emulator,
TLS with credentials in production) with ``grpc.intercept_channel``. Why this way is
explained in :mod:`aksio.deadlines`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aksio.config import get_config
from aksio.lazy import once

if TYPE_CHECKING:  # pragma: no cover
    from google.cloud import firestore, storage, tasks_v2  # type: ignore[attr-defined]


@once
def firestore_client() -> firestore.Client:
    cfg = get_config()
    return _firestore_class()(project=cfg.project, database=cfg.firestore_database)


@once
def _firestore_class() -> type[firestore.Client]:
    """``firestore.Client`` with :class:`aksio.deadlines.Interceptor` on its channel.

    The library builds the channel itself and passes it to its generated transport as
    ``channel=``, in ``Client._firestore_api``: the property its own ``Client`` and
    ``AsyncClient`` override to pick their transport class, which is what this subclass
    does too, calling the ``_firestore_api_helper`` they call (the non-public names used;
    ``tests/unit/test_deadlines.py`` fails if an upgrade of the library changes them)."""
    import grpc
    from google.cloud import firestore
    from google.cloud.firestore_v1.services.firestore import client as gapic
    from google.cloud.firestore_v1.services.firestore.transports.grpc import FirestoreGrpcTransport

    from aksio.deadlines import Interceptor

    class DeadlineInterceptor(Interceptor, grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):  # type: ignore[misc]
        pass

    class DeadlineTransport(FirestoreGrpcTransport):
        def __init__(self, *, channel: Any, **kwargs: Any) -> None:
            super().__init__(channel=grpc.intercept_channel(channel, DeadlineInterceptor()), **kwargs)

    class Client(firestore.Client):
        @property
        def _firestore_api(self) -> Any:
            return self._firestore_api_helper(DeadlineTransport, gapic.FirestoreClient, gapic)

    return Client


@once
def storage_client() -> storage.Client:
    from google.cloud import storage  # type: ignore[attr-defined]

    cfg = get_config()
    if cfg.storage_emulator_host:
        from google.auth.credentials import AnonymousCredentials

        return storage.Client(project=cfg.project, credentials=AnonymousCredentials())  # type: ignore[no-untyped-call]
    return storage.Client(project=cfg.project)


@once
def tasks_client() -> tasks_v2.CloudTasksClient:
    from google.cloud import tasks_v2

    host = get_config().tasks_emulator_host
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
