"""``python -m firestore_emulator --host 127.0.0.1 --port 8080 [--data PATH] [--http-port PORT] [--indexes FILE]``."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading

from .server import start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="firestore_emulator", description="A Firestore emulator (gRPC).")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="gRPC port, also HTTP unless --http-port (default 8080)")
    parser.add_argument("--data", help="SQLite file that keeps the documents across restarts (default: memory only)")
    parser.add_argument("--http-port", type=int, help="serve the HTTP endpoints on their own port instead")
    parser.add_argument("--lock-timeout", type=float, default=10.0, help="seconds a lock waiter waits (default 10)")
    parser.add_argument(
        "--indexes",
        default=os.environ.get("FIRESTORE_EMULATOR_INDEXES") or None,
        help="firestore.indexes.json: refuse queries its indexes cannot serve (default $FIRESTORE_EMULATOR_INDEXES, "
        "else every query runs)",
    )
    parser.add_argument("--verbose", action="store_true", help="log debug messages")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    try:
        emulator = start(
            args.host,
            args.port,
            data=args.data,
            http_port=args.http_port,
            lock_timeout=args.lock_timeout,
            indexes=args.indexes,
        )
    except (OSError, ValueError) as error:
        print(f"firestore emulator: {error}", file=sys.stderr)
        raise SystemExit(1) from error
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    if args.indexes:
        print(f"firestore emulator: enforcing the indexes of {args.indexes}", flush=True)
    print(
        f"firestore emulator listening on {emulator.host}:{emulator.port} (http {emulator.host}:{emulator.http_port})",
        flush=True,
    )
    stop.wait()
    emulator.stop()


if __name__ == "__main__":
    main()
