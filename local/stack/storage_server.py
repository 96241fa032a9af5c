"""The stack's Cloud Storage: ``gcp-storage-emulator`` on a private loopback port,
``local/storage_front.py`` (V4 signed URLs checked as GCS does) before it.

:func:`serve` (the ``serve-storage`` subcommand) starts the emulator in this process on a free
loopback port, with the default bucket, then the front on ``--port``; the front binds its port
only once the emulator answers, so a connection to the port means the whole storage is ready.
``--signer EMAIL=PEM`` names the account whose public key checks signatures (the stack's
local upload signer, :mod:`stack.keys`). ``--cors-origin`` (repeatable) are the origins of the
bucket's CORS configuration, whose rule is ``--cors-rule`` (terraform's cors.json).
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
import time
import urllib.request

from storage_cors import Cors
from storage_front import StorageFront, signers_from_args

from .settings import free_port


def serve(args: argparse.Namespace) -> int:
    from gcp_storage_emulator.server import create_server

    logging.basicConfig(level=logging.WARNING, format="storage-emulator: %(name)s %(levelname)s %(message)s")
    port = free_port()
    server = create_server(args.host, port, in_memory=args.in_memory, default_bucket=args.bucket)
    server.start()
    upstream = f"http://{args.host}:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{upstream}/storage/v1/b/{args.bucket}", timeout=2):
                break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    print(f"storage emulator (internal) on {upstream}", flush=True)
    cors = Cors.load(args.cors_rule, args.cors_origin)
    front = StorageFront(upstream, host=args.host, port=args.port, signers=signers_from_args(args.signer), cors=cors)
    front.start()
    print(f"storage listening on {front.url}; bucket {args.bucket}", flush=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    front.stop()
    server.stop()
    return 0
