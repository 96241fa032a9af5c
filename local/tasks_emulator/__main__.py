"""``python -m tasks_emulator --port 8123 --certs-port 8124 --queue NAME[,retry settings]...``.

``--queue projects/P/locations/L/queues/Q,min_backoff=0.1,max_backoff=2,max_doublings=4,max_attempts=6``
creates a queue with that retry configuration (unset settings: Cloud Tasks' defaults).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from .oidc import CertServer, Issuer
from .queues import Tasks, queue_proto
from .retry import Retry
from .rpc import server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="tasks_emulator", description="A Cloud Tasks emulator (gRPC).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8123, help="gRPC port")
    parser.add_argument("--certs-port", type=int, default=0, help="HTTP port of the OIDC certificates (0: any)")
    parser.add_argument("--queue", action="append", default=[], help="NAME[,retry settings] (repeatable)")
    parser.add_argument("--tombstone-seconds", type=float, default=3600.0, help="how long a used name stays taken")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    issuer = Issuer()
    tasks = Tasks(issuer, tombstone_seconds=args.tombstone_seconds)
    for spec in args.queue:
        name, _, settings = spec.partition(",")
        tasks.add_queue(queue_proto(name, Retry.parse(settings)))
    try:
        certs = CertServer(issuer, args.host, args.certs_port).start()
        grpc_server = server(tasks.start(), args.host, args.port)
    except OSError as error:
        print(f"tasks emulator: {error}", file=sys.stderr)
        raise SystemExit(1) from error
    queues = "; ".join(f"{q.proto.name} ({q.retry})" for q in tasks.queues.values())
    print(f"tasks emulator listening on {args.host}:{args.port}; certs {certs.url}; queues: {queues}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    grpc_server.stop(grace=0)
    tasks.stop()
    certs.stop()


if __name__ == "__main__":
    main()
