"""The stack's Stripe: localstripe on a private loopback port, ``local/stripe_front.py`` before it.

:func:`serve` (the ``serve-stripe`` subcommand) runs localstripe's aiohttp application in this
process's event loop on a socket bound to ``--host`` port 0, and the front (Checkout, Billing
Portal, Prices, ``Idempotency-Key``; everything else proxied to localstripe) in threads of
this process on ``--port``; ``--webhook URL=ENV`` (repeatable) are the webhook endpoints the
front delivers events to, each signed with the secret in the variable ``ENV``. The front binds
its port only once localstripe answers and every ``--price`` exists, so a connection to the
port means the whole Stripe is ready.

localstripe's data: localstripe keeps its one store, the module-level singleton
``localstripe.resources.store``, in a hard-coded ``/tmp/localstripe.pickle`` shared by every
localstripe on the machine, through two methods of its ``Store`` class meant for that
(``try_load_from_disk``, ``dump_to_disk``; its ``--from-scratch`` option only skips the
load). It offers no option to move or disable that file, and its handlers reach the store by
that module-level name, so there is no way to hand it a store of our own. So
:class:`PrivateStore` subclasses ``Store`` and overrides those two methods only (memory, or
``--store``), and :func:`use_private_store` makes the singleton an instance of it, before
anything is stored. That ``__class__`` assignment, on our process's object, is the one place
this package reaches into localstripe; its functions and classes are left as they are.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import logging
import os
import pickle
import signal
import socket
from pathlib import Path
from typing import Any

from aiohttp import web
from localstripe import resources
from stripe_front import StripeFront
from stripe_hosted import webhooks_from_args


class _StoreUnpickler(pickle.Unpickler):
    """Reads a store file as a plain dict, whichever store class wrote it.

    Files of the single-file stack pickled the store itself (a ``localstripe.resources.Store``):
    unpickling one of those as that class would call its ``__setitem__``, hence its
    ``dump_to_disk``, once per entry. This package writes a plain dict.
    """

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("localstripe.resources", "Store"):
            return dict
        return super().find_class(module, name)


class PrivateStore(resources.Store):
    """localstripe's store, kept in :attr:`path` (None: memory only) instead of ``/tmp``."""

    path: Path | None = None

    def try_load_from_disk(self) -> None:
        if self.path is not None and self.path.exists():
            data = _StoreUnpickler(io.BytesIO(self.path.read_bytes())).load()  # our own file
            self.update(data)

    def dump_to_disk(self) -> None:
        if self.path is not None:
            tmp = self.path.with_suffix(".tmp")
            with tmp.open("wb") as f:
                pickle.dump(dict(self), f, protocol=pickle.HIGHEST_PROTOCOL)
            tmp.replace(self.path)


def use_private_store(path: Path | None) -> resources.Store:
    """Keep localstripe's store in ``path`` (None: memory), loading what it holds."""
    store = resources.store
    store.__class__ = PrivateStore
    store.path = path
    store.try_load_from_disk()
    return store


def serve(args: argparse.Namespace) -> int:
    """Serve until SIGINT or SIGTERM; prints ``stripe listening on URL`` once ready."""
    from localstripe.server import app  # its routes, registered on import (with aiohttp's warnings)

    use_private_store(args.store)
    logging.basicConfig(level=logging.WARNING, format="localstripe: %(name)s %(levelname)s %(message)s")

    def start_front(upstream: str) -> StripeFront:
        webhooks = webhooks_from_args(args.webhook, dict(os.environ))
        front = StripeFront(upstream, host=args.host, port=args.port, state_path=args.front_state, webhooks=webhooks)
        for price in args.price:
            front.ensure_price(price, product=args.product_name)
        return front.start()

    async def run() -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((args.host, 0))
        runner = web.AppRunner(app, access_log=None)  # the front logs every request
        await runner.setup()
        await web.SockSite(runner, sock).start()
        upstream = f"http://{args.host}:{sock.getsockname()[1]}"
        print(f"localstripe (internal) on {upstream}", flush=True)
        front = await loop.run_in_executor(None, start_front, upstream)  # blocking calls to localstripe
        prices = f"; prices {', '.join(args.price)}" if args.price else ""
        print(f"stripe listening on {front.url}{prices}", flush=True)
        try:
            await stop.wait()
        finally:
            await loop.run_in_executor(None, front.stop)
            await runner.cleanup()

    asyncio.run(run())
    return 0
