"""Starting and stopping the emulator: the gRPC server, the HTTP endpoints and the port they share.

By default gRPC and HTTP share one port: a small front listener looks at the first bytes of each connection;
HTTP/2 (gRPC's connection preface ``PRI * HTTP/2.0``) is relayed to the gRPC server on an internal loopback port,
anything else is answered as HTTP/1.1. With ``http_port`` the HTTP endpoints get their own port instead and gRPC is
served on ``port`` directly (no relay).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import grpc

from .http import make_handler
from .indexes import Indexes
from .listen import ListenHub
from .names import DbKey
from .rpc import generic_handler
from .service import FirestoreService
from .store import Stats, Store
from .txn import LockManager, forbid_waiting

log = logging.getLogger("firestore_emulator")

MAX_MESSAGE_BYTES = 64 * 1024 * 1024
WORKER_THREADS = 64
"""Threads for requests that wait for a lock; everything else runs on the event loop."""
_GRPC_PREFACE = b"PRI "
_RELAY_CHUNK = 256 * 1024


@dataclass
class Emulator:
    """A running emulator. ``port`` serves gRPC (and the HTTP endpoints when ``http_port == port``)."""

    host: str
    port: int
    http_port: int
    store: Store
    locks: LockManager
    _closers: list[Any] = field(default_factory=list)

    @property
    def address(self) -> str:
        """``host:port``, what FIRESTORE_EMULATOR_HOST should hold."""
        return f"{self.host}:{self.port}"

    def reset(self, db: DbKey) -> None:
        """Delete every document of a database, abort its transactions, tell its listeners."""
        with self.store.mutex:
            self.locks.abort_database(db)
            existed = self.store.reset(db)
            if existed:
                self.store.notify(db, existed)

    def set_indexes(self, indexes: Indexes | str | Path | dict[str, Any] | None) -> None:
        """Enforce indexes from now on: an index file (path), its parsed JSON, or None to serve every query."""
        if indexes is not None and not isinstance(indexes, Indexes):
            indexes = Indexes(indexes, "index spec") if isinstance(indexes, dict) else Indexes.load(indexes)
        with self.store.mutex:
            self.store.indexes = indexes

    def database_stats(self, db: DbKey) -> Stats:
        with self.store.mutex:
            return self.store.database(db).stats

    def project_stats(self, project: str) -> dict[str, Any]:
        """Operations billed per database of ``project``, and their totals."""
        with self.store.mutex:
            databases = {key[1]: db.stats.as_dict() for key, db in self.store.databases.items() if key[0] == project}
        totals = {kind: sum(d[kind] for d in databases.values()) for kind in ("reads", "writes", "deletes")}
        return {**totals, "databases": databases}

    def set_aborts(self, db: DbKey, prefix: str, count: int) -> None:
        """Make the next ``count`` transaction commits touching ``prefix`` answer ABORTED (0 clears it)."""
        with self.store.mutex:
            aborts = self.store.database(db).aborts
            if count > 0:
                aborts[prefix.strip("/")] = count
            else:
                aborts.pop(prefix.strip("/"), None)

    def clear_aborts(self, db: DbKey) -> None:
        with self.store.mutex:
            self.store.database(db).aborts.clear()

    def reset_stats(self, project: str) -> None:
        with self.store.mutex:
            for key, db in self.store.databases.items():
                if key[0] == project:
                    db.stats.clear()

    def stop(self) -> None:
        """Stop serving and close the data file; idempotent."""
        while self._closers:
            close = self._closers.pop()
            try:
                close()
            except Exception:
                log.debug("error while stopping", exc_info=True)


class _GrpcThread:
    """A ``grpc.aio`` server on its own event loop thread."""

    def __init__(self, service: FirestoreService, hub: ListenHub, address: str) -> None:
        self.pool = ThreadPoolExecutor(max_workers=WORKER_THREADS, thread_name_prefix="firestore-worker")
        self.service = service
        self.hub = hub
        self.address = address
        self.port = 0
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._server: Any = None
        self._thread = threading.Thread(target=self._run, name="firestore-grpc", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        forbid_waiting()
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._start())
        except BaseException as error:
            self._error = error
            self._ready.set()
            return
        self._ready.set()
        self.loop.run_forever()
        self.loop.close()

    async def _start(self) -> None:
        self._server = grpc.aio.server(
            handlers=[generic_handler(self.service, self.hub, self.pool)],
            options=[
                ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
                ("grpc.so_reuseport", 0),
            ],
        )
        self.port = self._server.add_insecure_port(self.address)
        await self._server.start()

    def stop(self) -> None:
        future = asyncio.run_coroutine_threadsafe(self._server.stop(0.5), self.loop)
        with contextlib.suppress(Exception):
            future.result(timeout=5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)
        self.pool.shutdown(wait=False, cancel_futures=True)


def start(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    data: str | Path | None = None,
    http_port: int | None = None,
    lock_timeout: float = 10.0,
    indexes: str | Path | dict[str, Any] | None = None,
) -> Emulator:
    """Start an emulator in this process (port 0: any free port) and return once it accepts connections.

    ``http_port`` None (the default) serves HTTP on the gRPC port; a number (0: any free port) gives HTTP its own.
    ``indexes``: an index file (firestore.indexes.json) or its parsed JSON; queries that its indexes and the
    automatic single-field indexes cannot serve are then refused (FAILED_PRECONDITION), as Firestore does.
    """
    loaded = None
    if indexes is not None:
        loaded = Indexes(indexes, "index spec") if isinstance(indexes, dict) else Indexes.load(indexes)
    store = Store(Path(data) if data else None)
    store.indexes = loaded
    locks = LockManager(store, timeout=lock_timeout)
    service = FirestoreService(store, locks)
    hub = ListenHub(store)
    if http_port is None:
        try:
            front = socket.create_server((host, port), backlog=512)
        except OSError as error:
            store.close()
            raise OSError(f"cannot listen on {host}:{port}: {error.strerror}") from error
        grpc_server = _GrpcThread(service, hub, "127.0.0.1:0")
        public_port = front.getsockname()[1]
        emulator = Emulator(host, public_port, public_port, store, locks)
        emulator._closers.extend([store.close, grpc_server.stop])
        _serve_front(emulator, front, grpc_server.port)
        return emulator
    try:
        grpc_server = _GrpcThread(service, hub, f"{host}:{port}")
    except RuntimeError as error:  # grpc's way of saying the port is taken
        store.close()
        raise OSError(f"cannot listen on {host}:{port}: {error}") from error
    emulator = Emulator(host, grpc_server.port, 0, store, locks)
    emulator._closers.extend([store.close, grpc_server.stop])
    http_server = ThreadingHTTPServer((host, http_port), make_handler(emulator))
    http_server.daemon_threads = True
    emulator.http_port = http_server.server_address[1]
    threading.Thread(target=http_server.serve_forever, name="firestore-http", daemon=True).start()
    emulator._closers.extend([http_server.server_close, http_server.shutdown])
    return emulator


def _serve_front(emulator: Emulator, front: socket.socket, grpc_port: int) -> None:
    """Accept connections on the shared port and route each by its first bytes."""
    handler = make_handler(emulator)
    stopping = threading.Event()

    def accept() -> None:
        while not stopping.is_set():
            try:
                conn, address = front.accept()
            except OSError:
                return
            threading.Thread(
                target=_route, args=(conn, address, handler, emulator, grpc_port), name="firestore-conn", daemon=True
            ).start()

    def close() -> None:
        stopping.set()
        with contextlib.suppress(OSError):
            front.shutdown(socket.SHUT_RDWR)
        front.close()

    threading.Thread(target=accept, name="firestore-accept", daemon=True).start()
    emulator._closers.append(close)


def _route(
    conn: socket.socket, address: Any, handler: type[BaseHTTPRequestHandler], emulator: Emulator, grpc_port: int
) -> None:
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        head = _peek(conn, len(_GRPC_PREFACE))
    except OSError:
        conn.close()
        return
    if head == _GRPC_PREFACE:
        _relay(conn, grpc_port)
        return
    try:
        handler(conn, address, emulator)  # type: ignore[arg-type]
    except OSError:
        log.debug("http connection failed", exc_info=True)
    finally:
        with contextlib.suppress(OSError):
            conn.close()


def _peek(conn: socket.socket, size: int) -> bytes:
    """The first ``size`` bytes of a connection, left unread (fewer if it closes first)."""
    conn.settimeout(30)
    head = conn.recv(size, socket.MSG_PEEK)
    while head and len(head) < size:
        threading.Event().wait(0.001)
        head = conn.recv(size, socket.MSG_PEEK)
    conn.settimeout(None)
    return head


def _relay(client: socket.socket, grpc_port: int) -> None:
    """Shuttle bytes between a client and the internal gRPC port until both sides are done."""
    try:
        upstream = socket.create_connection(("127.0.0.1", grpc_port))
    except OSError:
        client.close()
        return
    upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(_RELAY_CHUNK):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)

    back = threading.Thread(target=pump, args=(upstream, client), name="firestore-relay", daemon=True)
    back.start()
    pump(client, upstream)
    back.join()
    client.close()
    upstream.close()
