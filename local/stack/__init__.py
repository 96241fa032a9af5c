"""The Aksio local stack: every emulator, the gateway and the Storage→Eventarc bridge.

Usage (run with the project's virtualenv; ``make run`` and ``make test`` do)::

    .venv/bin/python local/stack run  [--only a,b] [--free-ports] [--ephemeral]
    .venv/bin/python local/stack exec [--only a,b] [--free-ports] [--persist] -- CMD ARGS...

``run`` starts the components, prints their URLs, the environment a client needs and a curl
quickstart, and runs until Ctrl-C or SIGTERM; ``exec`` starts them, runs CMD with the stack's
environment, stops them and exits with CMD's exit code. Either way everything the stack
started is stopped when it ends (each component runs in its own process group, which is
terminated, then killed), and a component that exits or is not ready in time stops the whole
stack with a message naming it and the last lines of its log. ``run`` keeps data under
``.local/data`` across restarts (``--ephemeral``: memory only); ``exec`` keeps it in memory
(``--persist``: under ``.local/data``).

Components (all bound to 127.0.0.1; logs in ``.local/logs/<component>.log``):

=========  ==========================  =====  ==============================================
component  what                        port   variables set for clients
=========  ==========================  =====  ==============================================
firestore  local/firestore_emulator    8080   FIRESTORE_EMULATOR_HOST=127.0.0.1:8080
auth       firebase-tools Auth emu.    9099   FIREBASE_AUTH_EMULATOR_HOST=127.0.0.1:9099
storage    gcp-storage-emulator behind 9023   STORAGE_EMULATOR_HOST=http://127.0.0.1:9023,
           local/storage_front.py             UPLOAD_BUCKET=aksio-uploads,
                                              STORAGE_SIGNER_KEY_FILE=<local>/keys/...json
tasks      local/tasks_emulator        8123   CLOUD_TASKS_EMULATOR_HOST=127.0.0.1:8123,
           (+ OIDC certs over HTTP)    8124   TASKS_QUEUE=ai-jobs, TASKS_LOCATION=us-central1,
                                              TASKS_SERVICE_ACCOUNT, TASKS_OIDC_CERTS_URL
stripe     localstripe behind          8420   STRIPE_API_BASE=http://127.0.0.1:8420
           local/stripe_front.py
fcm        local/fcm_server.py         8430   FCM_API_BASE=http://127.0.0.1:8430
gateway    local/gateway.py            8000   GATEWAY_URL=http://127.0.0.1:8000
bridge     local/bridge.py             --     (posts to $GATEWAY_URL/process-upload)
scheduler  local/scheduler.py          8440   SCHEDULER_URL=http://127.0.0.1:8440
                                              (posts to $GATEWAY_URL/send-reminders)
=========  ==========================  =====  ==============================================

Every child and ``exec``'s command also get ``GOOGLE_CLOUD_PROJECT`` and ``GCLOUD_PROJECT``
(``demo-aksio``) and ``TASKS_AUTH_SECRET`` (random per stack start
unless already set: the shared secret the local scheduler sends instead of an OIDC token;
task calls carry a real OIDC token minted by the Tasks emulator), ``NO_GCE_CHECK=true``, and
local billing settings (``STRIPE_SECRET_KEY``,
``STRIPE_WEBHOOK_SECRET`` (two, comma-separated, as during a rotation), ``STRIPE_PRICE_PRO``,
``BILLING_RETURN_ORIGINS``), each overridable from the environment. ``exec``'s command
gets ``AKSIO_STACK=1`` when the whole stack runs (not with ``--only``) and
``AKSIO_STACK_COMPONENTS`` (the started components, comma-separated).

Settings, from the environment:

- ``AKSIO_FIRESTORE_PORT``, ``AKSIO_AUTH_PORT``, ``AKSIO_STORAGE_PORT``, ``AKSIO_TASKS_PORT``,
  ``AKSIO_TASKS_CERTS_PORT``, ``AKSIO_STRIPE_PORT``, ``AKSIO_FCM_PORT``, ``AKSIO_GATEWAY_PORT``,
  ``AKSIO_SCHEDULER_PORT``: the ports above. ``--free-ports`` gives every
  component whose variable is unset a free port instead (to run beside another stack).
- ``AKSIO_LOCAL_DIR`` (default ``<repo>/.local``): where ``logs/``, ``data/`` and
  ``stack.json`` (pid, components, client environment, ``ready``; mode 600) go. An in-memory
  stack started while another one runs in the same directory uses ``stacks/<pid>/`` below it;
  a persistent one refuses to start.
- ``AKSIO_PYTHON`` (default ``<repo>/.venv/bin/python``): the Python the Python components run with.
- ``AKSIO_TASKS_MAX_RETRIES`` (default 5): retries after the first attempt before the Tasks
  emulator drops a failing task (the queue's ``max_attempts`` is one more); the backoff is
  0.1 s doubling 4 times, at most 2 s (``settings.TASKS_RETRY``).
- ``AKSIO_START_TIMEOUT`` (default 60) and ``AKSIO_AUTH_START_TIMEOUT`` (default 120): seconds
  a component may take to become ready.
- ``AKSIO_SCHEDULER_CLOCK`` (default ``on``): ``off`` starts the scheduler with its wall clock
  paused (jobs run only through its ``/_test/run``).
- ``AKSIO_FIRESTORE_INDEXES`` (default ``<repo>/terraform/firestore.indexes.json``): the index
  file the Firestore emulator enforces (a query production could not serve from it answers
  FAILED_PRECONDITION); ``off`` serves every query.

The stripe component is one process (``serve-stripe``): localstripe (customers,
subscriptions, payment methods, plans, invoices...) on a private loopback port, and in front
of it, on the component's port, ``local/stripe_front.py``, which adds what localstripe lacks
in Stripe's wire format (Checkout Sessions, Billing Portal sessions, Prices,
``Idempotency-Key``) and proxies the rest, so ``STRIPE_API_BASE`` is a whole Stripe for the
billing functions. The price ``STRIPE_PRICE_PRO`` is created at start; the front's
``/_test/checkout/{id}/complete`` plays the customer paying. Persistent data:
``data/stripe.pickle`` (localstripe) and ``data/stripe-front.json`` (the front's sessions
and idempotency answers).

FCM has no emulator: the fcm component (``local/fcm_server.py``) speaks FCM HTTP v1's
``messages:send`` (bearer token required, messages checked as FCM does), records what it
delivers and fails on demand per token (``/_test/messages``, ``/_test/tokens/{token}``). The
scheduler (``local/scheduler.py``) is Cloud Scheduler: it posts to ``send-reminders`` at every
15-minute slot of the wall clock, with Cloud Scheduler's headers and the shared task secret, and
``/_test/run`` runs a slot at a chosen instant.

The storage component is one process (``serve-storage``): gcp-storage-emulator on a private
loopback port and, on the component's port, ``local/storage_front.py``, which checks V4
signed URLs as GCS does (signature with the public key of the stack's upload signer, made
once in ``<local>/keys`` by :mod:`stack.keys`; expiry; signed headers; length range;
``x-goog-if-generation-match``) and proxies the rest. Internal subcommands
``serve-storage`` and ``serve-stripe`` start those two; the package imports nothing outside
the standard library at module level.

Modules, one per concern:

- :mod:`stack.settings`: names, default ports, paths, :class:`Settings` (the environment).
- :mod:`stack.errors`: :class:`StackError` (a component that cannot start), ``Interrupted``.
- :mod:`stack.probes`: readiness probes (TCP, HTTP, a line in the log, who listens).
- :mod:`stack.supervise`: :class:`Component`, one supervised process in its own group.
- :mod:`stack.components`: each component's recipe (command line, environment, data).
- :mod:`stack.orchestrator`: :class:`Stack`, starting phases and stopping everything.
- :mod:`stack.cli`: the command line (``run``, ``exec``, ``serve-*``); ``__main__`` runs it.
- :mod:`stack.storage_server`, :mod:`stack.stripe_server`: the two ``serve-*`` processes.
- :mod:`stack.keys`: the local upload signer's key.
"""

from __future__ import annotations

from .cli import main
from .components import build_components
from .errors import Interrupted, StackError
from .orchestrator import Stack
from .settings import COMPONENTS, DEFAULT_PORTS, HOST, PROJECT, Settings, free_port, port_var
from .supervise import Component

__all__ = [
    "COMPONENTS",
    "DEFAULT_PORTS",
    "HOST",
    "PROJECT",
    "Component",
    "Interrupted",
    "Settings",
    "Stack",
    "StackError",
    "build_components",
    "free_port",
    "main",
    "port_var",
]
