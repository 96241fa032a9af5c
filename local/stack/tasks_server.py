"""The stack's Cloud Tasks emulator: ``gcloud-tasks-emulator`` served on one interface.

The emulator's own command line listens on every interface; :func:`serve` (the ``serve-tasks``
subcommand) builds the same server from the emulator's public parts (``QueueState``,
``Greeter``, ``Processor`` and the generated ``add_CloudTasksServicer_to_server``) and binds
it to ``--host`` only, with the queues given.

It runs with the Tasks virtualenv's Python (``local/install.sh`` makes it; the emulator's
pinned gRPC and protobuf do not fit the project's), which is why the ``stack`` package
imports nothing outside the standard library at module level.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
import threading


def serve(args: argparse.Namespace) -> int:
    """Serve until SIGINT or SIGTERM, then exit at once.

    The emulator's HTTP dispatch (urllib) has no timeout of its own: a default socket timeout
    (``--dispatch-timeout``) bounds it, as Cloud Tasks' dispatch deadline.
    """
    import logging
    from concurrent.futures import ThreadPoolExecutor

    socket.setdefaulttimeout(args.dispatch_timeout)  # used by urllib; gRPC has its own sockets
    import grpc
    from gcloud_tasks_emulator import server as emulator
    from google.cloud.tasks_v2 import Queue

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    state = emulator.QueueState(args.target_host, args.target_port, args.max_retries)
    for name in args.queue:
        state.create_queue(name.rsplit("/", 2)[0], Queue(name=name))
    server = grpc.server(ThreadPoolExecutor(max_workers=8))
    emulator.add_CloudTasksServicer_to_server(emulator.Greeter(state), server)
    server.add_insecure_port(f"{args.host}:{args.port}")  # raises if the port is taken
    server.start()
    processor = emulator.Processor(state)
    processor.start()
    print(f"tasks emulator listening on {args.host}:{args.port}; queues: {', '.join(args.queue)}", flush=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    processor.join(timeout=1)
    server.stop(grace=0)
    sys.stdout.flush()
    os._exit(0)  # the emulator's per-queue threads may sit in a dispatch; don't wait for them
